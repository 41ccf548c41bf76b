"""A supporter's promise to post, and the states its post goes through at launch.

``status`` is what the supporter sees (pledged / withdrawn / posted / failed);
``delivery`` records the blast's progress for this pledge so a crash never posts twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.campaign import Campaign
from bot.domain.errors import InvalidTransition
from bot.domain.networks import DeliveryMode, Network
from bot.domain.refs import UserRef
from bot.domain.text import t


class PledgeStatus(StrEnum):
    PLEDGED = "pledged"
    WITHDRAWN = "withdrawn"
    POSTED = "posted"
    FAILED = "failed"


class DeliveryState(StrEnum):
    """Where the launch-time delivery of one pledge stands."""

    WAITING = "waiting"  # before launch
    QUEUED = "queued"  # loaded by the preparation step, not yet sent
    SENDING = "sending"  # a request may have reached the network
    TAP_OFFERED = "tap_offered"  # the one-tap link went to the supporter
    DONE = "done"  # posted, confirmed or finally failed


_ALLOWED: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    PledgeStatus.PLEDGED: frozenset(
        {PledgeStatus.WITHDRAWN, PledgeStatus.POSTED, PledgeStatus.FAILED}
    ),
    PledgeStatus.WITHDRAWN: frozenset({PledgeStatus.PLEDGED}),
    PledgeStatus.POSTED: frozenset(),
    PledgeStatus.FAILED: frozenset({PledgeStatus.POSTED}),
}


@dataclass(frozen=True)
class Pledge:
    """One supporter account's promise to post in one campaign."""

    campaign_id: int
    supporter: UserRef
    account_id: int
    network: Network
    created_at: datetime
    message: str | None = None
    status: PledgeStatus = PledgeStatus.PLEDGED
    delivery: DeliveryState = DeliveryState.WAITING
    delivery_mode: DeliveryMode | None = None
    failure_reason: str | None = None
    remote_post_id: str | None = None
    remote_post_url: str | None = None
    posted_at: datetime | None = None
    recruited_by: str | None = None  # the supporter key of who brought this person, if any
    variant: int | None = None  # the campaign wording it posts (0: the main message)
    source_chat: str | None = None  # "platform:id" of the chat whose card brought it
    source_chat_title: str | None = None  # that chat's title, when it was known
    recruit_code: str | None = None  # the supporter's recruit code here (None: not yet)
    id: int | None = None
    version: int = 0

    def text(self, campaign: Campaign) -> str:
        """What this pledge posts: the supporter's own words, else its wording."""
        return self.message or campaign.text_of(self.variant)


@dataclass(frozen=True, slots=True)
class DeliveryHead:
    """What the launch needs to sort a pledge still to deliver, without loading it: the
    shared blast's workers load the pledges themselves, batch by batch."""

    id: int
    network: Network
    delivery: DeliveryState
    delivery_mode: DeliveryMode | None


def change_status(
    pledge: Pledge, new_status: PledgeStatus, *, at: datetime, reason: str | None = None
) -> Pledge:
    """Return ``pledge`` in ``new_status``, or raise ``InvalidTransition``."""
    if new_status not in _ALLOWED[pledge.status]:
        raise InvalidTransition(
            f"pledge.cannot_{new_status.value}", status=t(f"pledge_status.{pledge.status.value}")
        )
    changes: dict[str, object] = {"status": new_status}
    if new_status is PledgeStatus.FAILED:
        changes.update(failure_reason=reason, delivery=DeliveryState.DONE)
    elif new_status is PledgeStatus.POSTED:
        changes.update(posted_at=at, delivery=DeliveryState.DONE, failure_reason=None)
    elif new_status is PledgeStatus.PLEDGED:
        changes.update(delivery=DeliveryState.WAITING, failure_reason=None)
    return replace(pledge, **changes)
