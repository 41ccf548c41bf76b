"""Private messages to supporters after the blast: whose post failed for good, and why.

A post refused for good (the account's access was revoked, the network rejected the
text) is not retried; its supporter is told once, in their language, what happened and
what to do. The notices go after the blast has settled, with bounded concurrency, so they
never compete with the posts themselves. Each is claimed on its own before it is sent
(``bot.blast.once``), and ``FAILURE_NOTICES`` is claimed once all of them were: a run cut
off half-way (a crash, the leadership lost) leaves the rest to the next run, and none is
sent twice. The failed pledges are read from the database, so pledges failed by an
earlier, interrupted run are included; the network's own words are only known for those
failed by the current run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from bot.blast.once import InFlight, claim_then_send, count_sent
from bot.blast.prepare import load_accounts
from bot.domain.campaign import Campaign
from bot.domain.events import EventKind
from bot.domain.outcomes import OutcomeKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import Text, t
from bot.notifier import Notifier
from bot.ports import Repository
from bot.registry import NetworkRegistry

log = logging.getLogger(__name__)

REVOKED = OutcomeKind.REVOKED.value
REJECTED = OutcomeKind.REJECTED.value
REASON_MAX = 200  # characters of the network's explanation shown


def failure_notice(
    campaign: Campaign, pledge: Pledge, account: str, reason: str | None
) -> OutgoingMessage:
    """Tell the owner of ``account`` (as they know it) that their pledge failed."""
    params = {
        "title": campaign.title,
        "account": account,
        "network": t(f"network.{pledge.network}"),
    }
    if pledge.failure_reason == REVOKED:
        return OutgoingMessage.of(t("blast.failed_revoked", **params))
    said = " ".join((reason or "").split())[:REASON_MAX]
    shown: str | Text = said or t("blast.failed_no_reason")
    return OutgoingMessage.of(t("blast.failed_rejected", reason=shown, **params))


async def send_each(
    notifier: Notifier, messages: Iterable[tuple[UserRef, OutgoingMessage]], concurrency: int
) -> int:
    """Send each private message, ``concurrency`` at a time; return how many arrived.

    People no chat reaches (a web identity) are skipped, not tried: pass only reachable
    people where the count is compared with a total (``Notifier.reachable``)."""
    limit = asyncio.Semaphore(concurrency)

    async def send(person: UserRef, message: OutgoingMessage) -> bool:
        async with limit:
            return await notifier.send_to_user(person, message) is not None

    reachable = [(p, m) for p, m in messages if notifier.reachable(p)]
    return sum(await asyncio.gather(*(send(p, m) for p, m in reachable)))


async def tell_failed(
    *,
    repo: Repository,
    notifier: Notifier,
    registry: NetworkRegistry,
    campaign: Campaign,
    refusals: Mapping[int, str],
    now: datetime,
    batch: int,
    concurrency: int,
    in_flight: InFlight | None = None,
) -> int:
    """Tell every supporter whose pledge failed for good, once per pledge; return how many
    were told now. ``refusals``: pledge id → the network's explanation, where known;
    ``in_flight``: where each claim-and-send runs uncut by a cancellation."""
    assert campaign.id is not None
    campaign_id = campaign.id
    if await repo.event_claimed(campaign_id, EventKind.FAILURE_NOTICES):
        return 0  # all claimed, by this run or an earlier one
    failed = [
        p
        for p in await repo.pledges_of_campaign(campaign_id, [PledgeStatus.FAILED])
        if p.failure_reason in (REVOKED, REJECTED) and p.id is not None
    ]
    accounts = await load_accounts(repo, [p.account_id for p in failed], batch) if failed else {}
    notices = [
        (
            p,
            failure_notice(
                campaign, p, registry.display(accounts[p.account_id]), refusals.get(p.id or 0)
            ),
        )
        for p in failed
        if p.account_id in accounts and notifier.reachable(p.supporter)
    ]
    units = in_flight or InFlight()

    async def tell(notice: tuple[Pledge, OutgoingMessage]) -> bool:
        pledge, message = notice
        return await units.run(
            claim_then_send(
                lambda: repo.claim_event(
                    campaign_id, EventKind.FAILURE_NOTICE, now, subject=pledge.id
                ),
                lambda: notifier.send_to_user(pledge.supporter, message),
                f"campaign {campaign.ref}: the failure notice of pledge {pledge.id}",
            )
        )

    told = await count_sent(notices, tell, concurrency)
    await repo.claim_event(campaign_id, EventKind.FAILURE_NOTICES, now)
    if failed:
        log.info(
            "campaign %s: %s of %s failed supporters told (%s without a chat)",
            campaign.ref,
            told,
            len(notices),
            sum(1 for p in failed if not notifier.reachable(p.supporter)),
        )
    return told
