"""Each supporter's own result after the launch, told privately with the campaign's totals.

Auto: the link to their post, or briefly that it failed (a failure for good, revoked
access or a refused text, was explained already by ``bot.blast.notices`` and is not
repeated). Tap: a thank-you once the read-back saw their post; nothing for
those who did not post (no nagging). Each person is claimed as a once-only event (subject:
their first pledge in the campaign) before their message goes, so a second run of the
report, after a restart or at the same moment, never tells anyone twice; the claim and
its message are one unit a stop does not cut (``bot.blast.once``). People without a
private chat (web pledges) are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from bot.blast.notices import REJECTED, REVOKED
from bot.blast.once import InFlight, claim_then_send, count_sent
from bot.blast.prepare import mode_of
from bot.blast.report import NOT_POSTED
from bot.domain.campaign import Campaign
from bot.domain.cards import CampaignStats
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode, Network
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.text import Text, t
from bot.notifier import Notifier
from bot.ports import Repository

log = logging.getLogger(__name__)


def pledge_result(
    campaign: Campaign, pledge: Pledge, modes: Mapping[Network, DeliveryMode]
) -> Text | None:
    """What one pledge's owner is told, or None (withdrawn, pending, a tap never used)."""
    tap = mode_of(pledge, modes) is DeliveryMode.TAP
    url = pledge.remote_post_url
    if pledge.status is PledgeStatus.POSTED:
        if tap:
            return (
                t("result.tapped", title=campaign.title, url=url)
                if url
                else (t("result.tapped_no_link", title=campaign.title))
            )
        return (
            t("result.posted", title=campaign.title, url=url)
            if url
            else (t("result.posted_no_link", title=campaign.title))
        )
    told_already = (NOT_POSTED, REVOKED, REJECTED)  # by bot.blast.notices, or not nagged
    if (
        pledge.status is PledgeStatus.FAILED
        and not tap
        and pledge.failure_reason not in told_already
    ):
        return t("result.failed", title=campaign.title)
    return None


def personal_result(
    campaign: Campaign,
    pledges: Iterable[Pledge],
    stats: CampaignStats,
    modes: Mapping[Network, DeliveryMode],
) -> OutgoingMessage | None:
    """One person's message (their pledges of one campaign), or None when there is nothing
    to tell them."""
    lines = [r for p in pledges if (r := pledge_result(campaign, p, modes)) is not None]
    if not lines:
        return None
    totals = t(
        "result.totals",
        supporters=stats.supporters,
        posted=t("result.posts", posted=stats.posted),
        reach=t("result.reach", reach=stats.posted_reach),
    )
    return OutgoingMessage(tuple([*lines, totals]))


async def tell_results(
    *,
    repo: Repository,
    notifier: Notifier,
    campaign: Campaign,
    pledges: Iterable[Pledge],
    stats: CampaignStats,
    modes: Mapping[Network, DeliveryMode],
    now: datetime,
    concurrency: int,
    in_flight: InFlight | None = None,
) -> int:
    """Send every supporter of ``campaign`` their own result, once; return how many were
    sent now. ``in_flight``: where each claim-and-send runs uncut by a cancellation."""
    assert campaign.id is not None
    campaign_id = campaign.id
    people: dict[str, list[Pledge]] = {}
    for pledge in pledges:
        if pledge.status is not PledgeStatus.WITHDRAWN and pledge.id is not None:
            people.setdefault(pledge.supporter.key, []).append(pledge)
    units = in_flight or InFlight()

    async def tell(mine: list[Pledge]) -> bool:
        person = mine[0].supporter
        if notifier.front_end(person.platform) is None:
            return False  # no private chat (a web pledge)
        message = personal_result(campaign, mine, stats, modes)
        if message is None:
            return False
        first = min(p.id for p in mine if p.id is not None)
        return await units.run(
            claim_then_send(
                lambda: repo.claim_event(
                    campaign_id, EventKind.PERSONAL_RESULT, now, subject=first
                ),
                lambda: notifier.send_to_user(person, message),
                f"campaign {campaign.ref}: the result of {person.platform}:{person.id}",
            )
        )

    told = await count_sent(people.values(), tell, concurrency)
    log.info("campaign %s: %s supporters told their own result", campaign.ref, told)
    return told
