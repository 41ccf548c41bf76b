"""A campaign and the one function that moves it between statuses.

Every status change goes through ``transition``, so the lifecycle rules live in one
place: draft → pending review → live → launching → launched; or rejected (with a
reason), cancelled, failed, or expired (still pending review when its launch moment came).
A moderator may instead request changes (with a note): the organiser edits and resubmits,
back to pending review under the same reference. A live campaign whose message, title or
near launch moment changed goes back to pending review too (``bot.domain.edits``).
The goal is decided once, at the launch, by ``decide_launch``: the decision (and the count
it was taken on) is stored with the move to LAUNCHING, and only a campaign whose decision
is MET may deliver or become LAUNCHED.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.networks import Network
from bot.domain.refs import ChatRef, UserRef
from bot.domain.text import t
from bot.domain.variants import Variant, wording_text, wordings

TITLE_MIN, TITLE_MAX = 3, 80
GOAL_MAX = 1_000_000
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely
REF_LENGTH = 6
STORY_MAX = 2000


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    LIVE = "live"
    LAUNCHING = "launching"
    LAUNCHED = "launched"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"
    CHANGES_REQUESTED = "changes_requested"


ALLOWED_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.PENDING_REVIEW, CampaignStatus.CANCELLED}),
    CampaignStatus.PENDING_REVIEW: frozenset(
        {
            CampaignStatus.LIVE,
            CampaignStatus.REJECTED,
            CampaignStatus.CANCELLED,
            CampaignStatus.EXPIRED,
            CampaignStatus.CHANGES_REQUESTED,
        }
    ),
    CampaignStatus.CHANGES_REQUESTED: frozenset(
        {CampaignStatus.PENDING_REVIEW, CampaignStatus.CANCELLED, CampaignStatus.EXPIRED}
    ),
    CampaignStatus.LIVE: frozenset(
        {
            CampaignStatus.LAUNCHING,
            CampaignStatus.CANCELLED,
            CampaignStatus.FAILED,
            CampaignStatus.PENDING_REVIEW,  # edited after approval: reviewed again
        }
    ),
    CampaignStatus.LAUNCHING: frozenset({CampaignStatus.LAUNCHED, CampaignStatus.FAILED}),
    CampaignStatus.LAUNCHED: frozenset(),
    CampaignStatus.REJECTED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
    CampaignStatus.FAILED: frozenset(),
    CampaignStatus.EXPIRED: frozenset(),
}


class LaunchDecision(StrEnum):
    """Whether the campaign had enough supporters at its launch moment."""

    MET = "met"
    MISSED = "missed"


NOT_YET_LAUNCHED = frozenset(
    {
        CampaignStatus.DRAFT,
        CampaignStatus.PENDING_REVIEW,
        CampaignStatus.CHANGES_REQUESTED,
        CampaignStatus.LIVE,
    }
)
# waiting for a moderator, or for the organiser's changes: expires at the launch moment
AWAITING_REVIEW = frozenset({CampaignStatus.PENDING_REVIEW, CampaignStatus.CHANGES_REQUESTED})


@dataclass(frozen=True)
class JoinLink:
    """A chat where people join the campaign, for its public page: an invite the organiser
    gave (``invite``), else the link to the first card posted where it was created."""

    platform: str
    url: str
    invite: bool = False


@dataclass(frozen=True)
class Campaign:
    """A call for supporters to post one message together at one moment."""

    ref: str
    title: str
    message: str
    goal: int
    launch_at: datetime
    networks: tuple[Network, ...]
    organiser: UserRef
    created_at: datetime
    status: CampaignStatus = CampaignStatus.DRAFT
    id: int | None = None
    origin_chat: ChatRef | None = None
    decided_by: UserRef | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None  # the moderator's words: why rejected, or what to change
    status_changed_at: datetime | None = None
    version: int = 0
    launch_decision: LaunchDecision | None = None
    launch_supporters: int | None = None  # the count the launch decision was taken on
    late_minutes: int = 0  # how late the launch went out (whole minutes; 0: on time)
    tap_offered: bool = False  # the blast offered one-tap links (the report waits for them)
    story: str | None = None  # a few paragraphs shown on the pages, plain text
    picture: str | None = None  # the stored picture's key (see bot.pictures), None: none
    promote_origin: bool = False  # post its card in ``origin_chat`` once approved
    join_link: JoinLink | None = None  # where the public page sends people to join in chat
    variants: tuple[Variant, ...] = ()  # other wordings of ``message`` (bot.domain.variants)

    @property
    def wordings(self) -> tuple[Variant, ...]:
        """Every wording a pledge may post, by index: the main message first."""
        return wordings(self.message, self.variants)

    def text_of(self, variant: int | None) -> str:
        """The text of wording ``variant`` (the main message for None or one removed)."""
        return wording_text(self.message, self.variants, variant)

    @property
    def no_minimum(self) -> bool:
        return self.goal == 0

    @property
    def awaits_launch_decision(self) -> bool:
        """LIVE, or LAUNCHING without a decision (stored before decisions were recorded)."""
        return self.status is CampaignStatus.LIVE or (
            self.status is CampaignStatus.LAUNCHING and self.launch_decision is None
        )

    def open_for_pledges(self, now: datetime) -> bool:
        """Pledges are taken, and withdrawn, while LIVE and before the launch moment."""
        return self.status is CampaignStatus.LIVE and self.launch_at > now

    def open_for_withdrawal(self, now: datetime) -> bool:
        """Pledges may be withdrawn while they can be taken, and also while an approved
        campaign that was edited waits for moderation again (its supporters were told)."""
        return self.status in (CampaignStatus.LIVE, *AWAITING_REVIEW) and self.launch_at > now

    def goal_met(self, supporters: int) -> bool:
        """``supporters`` are people, however many accounts each pledged."""
        return self.goal == 0 or supporters >= self.goal


def transition(
    campaign: Campaign,
    new_status: CampaignStatus,
    *,
    at: datetime,
    by: UserRef | None = None,
    reason: str | None = None,
) -> Campaign:
    """Return ``campaign`` moved to ``new_status``, or raise ``InvalidTransition``."""
    met = campaign.launch_decision is LaunchDecision.MET
    if new_status not in ALLOWED_TRANSITIONS[campaign.status] or (
        new_status is CampaignStatus.LAUNCHED and not met  # only a met goal delivers
    ):
        raise InvalidTransition(
            f"campaign.cannot_{new_status.value}",
            ref=campaign.ref,
            status=t(f"status.{campaign.status.value}"),
        )
    changes: dict[str, object] = {"status": new_status, "status_changed_at": at}
    noted = (CampaignStatus.REJECTED, CampaignStatus.CHANGES_REQUESTED)
    if new_status in (CampaignStatus.LIVE, *noted):
        changes.update(decided_by=by, decided_at=at)
    if new_status in noted:
        if not reason or not reason.strip():
            raise InvalidInput(
                "reject.reason_required"
                if new_status is CampaignStatus.REJECTED
                else "changes.note_required"
            )
        changes["reject_reason"] = reason.strip()[:500]
    elif new_status is CampaignStatus.PENDING_REVIEW:
        changes.update(decided_by=None, decided_at=None, reject_reason=None)
    return replace(campaign, **changes)


def decide_launch(campaign: Campaign, supporters: int, *, at: datetime) -> Campaign:
    """Take the goal decision on ``supporters`` people: LIVE → LAUNCHING with the decision
    (MET, or MISSED) and the count recorded; with no minimum it is always MET.

    A MISSED campaign still moves to LAUNCHING: the launch tells everyone the goal was
    missed and only then marks it FAILED, so a run stopped in between is resumed (and
    everyone told) like any interrupted launch, and delivers nothing. A LAUNCHING
    campaign without a decision gets one and keeps its status. ``InvalidTransition`` for
    any other campaign, a decided one included: the decision is taken once.
    """
    if not campaign.awaits_launch_decision:
        raise InvalidTransition(
            "campaign.cannot_launching",
            ref=campaign.ref,
            status=t(f"status.{campaign.status.value}"),
        )
    decided = campaign
    if campaign.status is CampaignStatus.LIVE:
        decided = transition(campaign, CampaignStatus.LAUNCHING, at=at)
    decision = LaunchDecision.MET if campaign.goal_met(supporters) else LaunchDecision.MISSED
    return replace(decided, launch_decision=decision, launch_supporters=supporters)


def new_ref() -> str:
    """A short, unambiguous public reference such as ``K7QX2M``."""
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(REF_LENGTH))


def normalise_ref(text: str) -> str:
    """Accept ``#k7qx2m``, ``k7qx2m`` and friends as the same reference."""
    return text.strip().lstrip("#").upper()


def validate_title(text: str) -> str:
    title = " ".join(text.split())
    if len(title) < TITLE_MIN:
        raise InvalidInput("title.too_short", min=TITLE_MIN)
    if len(title) > TITLE_MAX:
        raise InvalidInput("title.too_long", max=TITLE_MAX, length=len(title))
    return title


NO_MINIMUM_WORDS = frozenset({"0", "none", "no", "no minimum", "aucun", "sans", "non"})
# ASCII digits, or digits grouped by thousands with one separator: 1,000 · 1_000 · 1 000
# (a space, or the no-break spaces French typing puts there).
_GOAL_RE = re.compile(r"[0-9]+|[0-9]{1,3}(?P<sep>[,_ \u00a0\u202f])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_GOAL_DIGITS_MAX = len(str(GOAL_MAX))


def validate_goal(text: str) -> int:
    """Parse a supporter goal: a whole number from 0 (no minimum) to one million.

    Accepted: ASCII digits, optionally grouped by thousands with one kind of separator
    (``1,000``, ``1_000``, ``1 000``), or a word for no minimum (``none``, ``aucun``...).
    A minus sign is refused as negative, anything else (``1,5``, ``2.5``, other scripts'
    digits) as not a number.
    """
    typed = text.strip()
    if typed.lower() in NO_MINIMUM_WORDS:
        return 0
    unsigned = typed.removeprefix("-")
    if not _GOAL_RE.fullmatch(unsigned):
        raise InvalidInput("goal.not_a_number", value=typed[:40])
    digits = "".join(char for char in unsigned if char.isdigit()).lstrip("0") or "0"
    if typed.startswith("-") and digits != "0":
        raise InvalidInput("goal.negative")
    if len(digits) > _GOAL_DIGITS_MAX or int(digits) > GOAL_MAX:
        raise InvalidInput("goal.too_big", max=GOAL_MAX)
    return int(digits)


_BLANK_LINES_RE = re.compile(r"\n{3,}")


def validate_story(text: str) -> str:
    """A story: plain text, at most ``STORY_MAX`` characters, paragraphs kept.

    Line endings become ``\n``, control characters (but the line feed) and trailing
    spaces go, and more than one blank line between paragraphs becomes one. Links stay
    text: the pages escape it and turn nothing into markup.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = "\n".join(
        "".join(char for char in line if char == "\t" or char.isprintable()).rstrip()
        for line in lines
    )
    story = _BLANK_LINES_RE.sub("\n\n", cleaned).strip()
    if not story:
        raise InvalidInput("story.empty")
    if len(story) > STORY_MAX:
        raise InvalidInput("story.too_long", max=STORY_MAX, length=len(story))
    return story


def story_paragraphs(story: str | None) -> list[str]:
    """The story's paragraphs (separated by a blank line), for the pages."""
    if not story:
        return []
    return [part.strip() for part in story.split("\n\n") if part.strip()]
