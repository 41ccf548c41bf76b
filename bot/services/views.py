"""What a person is told about their own things: /mypledges, /mycampaigns, /unpledge,
/cancelcampaign, /forget, and the moderator's /pending list and acknowledgement of a decision.

Built once here from the core's data so Telegram, Discord and the console say the same
facts in the same words; a front end only shows what it gets. A view with several
parts or buttons is an ``OutgoingMessage``; a one-line answer is a ``Text``. How to use
each platform's commands (help, usage hints) stays with the front ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.domain.campaign import Campaign, normalise_ref
from bot.domain.cards import CampaignStats
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.text import Text, t
from bot.services.cards import APPROVE_ACTION, REJECT_ACTION, summary_line
from bot.services.pledges import Forgotten

FORGET_ACTION = "forget"
FORGET_YES = f"{FORGET_ACTION}:yes"
FORGET_NO = f"{FORGET_ACTION}:no"
PENDING_SHOWN = 5  # one row of buttons each; Discord shows at most five rows

PledgeRow = tuple[Pledge, Campaign, str]  # as PledgeService.of_supporter lists them
CampaignRow = tuple[Campaign, CampaignStats]  # as CampaignService.of_organiser lists them


def pledge_line(pledge: Pledge, campaign: Campaign, account: str) -> Text:
    """One line of /mypledges."""
    return t(
        "mypledges.line",
        ref=campaign.ref,
        title=campaign.title,
        account=account,
        status=t(f"pledge_status.{pledge.status.value}"),
        launch_at=campaign.launch_at,
    )


def pledge_list(rows: Iterable[PledgeRow], *, include_withdrawn: bool = True) -> OutgoingMessage:
    """/mypledges: a header and one line per pledge, or a note that there is none.

    ``include_withdrawn=False`` leaves withdrawn pledges out (Discord's listing so far).
    """
    lines = [
        pledge_line(pledge, campaign, account)
        for pledge, campaign, account in rows
        if include_withdrawn or pledge.status is not PledgeStatus.WITHDRAWN
    ]
    if not lines:
        return OutgoingMessage.of(t("mypledges.none"))
    return OutgoingMessage.of(t("mypledges.header"), *lines)


def campaign_list(rows: Iterable[CampaignRow], now: datetime) -> OutgoingMessage:
    """/mycampaigns: a header and one summary line per campaign, or a note that there is none."""
    lines = [summary_line(campaign, stats, now) for campaign, stats in rows]
    if not lines:
        return OutgoingMessage.of(t("mycampaigns.none"))
    return OutgoingMessage.of(t("mycampaigns.header"), *lines)


def pending_list(campaigns: Sequence[Campaign]) -> OutgoingMessage:
    """/pending: the oldest campaigns waiting for moderation, each with its two buttons."""
    if not campaigns:
        return OutgoingMessage.of(t("pending.none"))
    shown = campaigns[:PENDING_SHOWN]
    lines = [
        t(
            "pending.line",
            ref=campaign.ref,
            title=campaign.title,
            organiser=campaign.organiser.name or "?",
            launch_at=campaign.launch_at,
        )
        for campaign in shown
    ]
    if len(campaigns) > len(shown):
        lines.append(t("pending.more", count=len(campaigns) - len(shown)))
    buttons = tuple(
        (
            Button(t("button.approve_ref", ref=c.ref), action=f"{APPROVE_ACTION}:{c.id}"),
            Button(t("button.reject_ref", ref=c.ref), action=f"{REJECT_ACTION}:{c.id}"),
        )
        for c in shown
    )
    return OutgoingMessage.of(t("pending.header"), *lines, buttons=buttons)


def unpledged(ref: str, count: int) -> Text:
    """The answer to a successful /unpledge ``ref`` (as typed) that withdrew ``count``."""
    return t("unpledge.done", count=count, ref=normalise_ref(ref))


def campaign_cancelled(campaign: Campaign) -> Text:
    """The answer to the organiser who cancelled ``campaign``."""
    return t("campaign.cancelled", title=campaign.title, ref=campaign.ref)


def approved(campaign: Campaign) -> Text:
    """The acknowledgement a moderator gets for approving ``campaign``."""
    return t("moderation.approved", title=campaign.title, ref=campaign.ref)


def rejected(campaign: Campaign) -> Text:
    """The acknowledgement a moderator gets for rejecting ``campaign``."""
    return t("moderation.rejected", title=campaign.title, ref=campaign.ref)


def forget_confirm() -> OutgoingMessage:
    """What /forget will erase, asked before anything is erased."""
    buttons = (
        (
            Button(t("forget.yes"), action=FORGET_YES),
            Button(t("forget.no"), action=FORGET_NO),
        ),
    )
    return OutgoingMessage.of(t("forget.confirm"), buttons=buttons)


def forget_kept() -> Text:
    """The answer to "no" on the /forget question."""
    return t("forget.kept")


def forgotten(erased: Forgotten) -> Text:
    """What ``PledgeService.forget`` erased, and where to revoke by hand what Chorus could
    not revoke yet."""
    counts = {
        "accounts": t("forget.accounts", count=erased.accounts),
        "pledges": t("forget.pledges", count=erased.pledges),
    }
    if not erased.unrevoked:
        return t("forget.done", **counts)
    where = "\n".join(f"• {u.account}: {u.revoke_at}" for u in erased.unrevoked)
    return t("forget.done_unrevoked", **counts, where=where)


def changes_requested(campaign: Campaign) -> Text:
    """The acknowledgement a moderator gets for requesting changes to ``campaign``."""
    return t("changes.acknowledged", title=campaign.title, ref=campaign.ref)
