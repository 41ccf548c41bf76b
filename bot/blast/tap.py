"""One-tap delivery: the supporter posts from their own account with a prefilled link.

At launch each tap pledge gets a private message with a button to the network's compose
screen, through our own short link (``TapLinks``: a raw compose URL is too long for a chat
button once the message is URL-encoded); after TAP_REMINDER_MINUTES those who have not
posted get a gentle reminder; the accounts' recent posts are read back to see who really
posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from bot.blast.accounts import AccountSource
from bot.blast.matching import find_campaign_post
from bot.blast.notices import send_each
from bot.blast.prepare import chunks
from bot.blast.writer import DeliveryWriter
from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign
from bot.domain.events import EventKind
from bot.domain.networks import Network
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus, change_status
from bot.domain.text import t
from bot.notifier import Notifier, Reach
from bot.ports import NetworkFailure, Repository, SocialNetwork
from bot.registry import NetworkRegistry
from bot.services.tap_links import TapLinks

log = logging.getLogger(__name__)


def tap_message(
    campaign: Campaign,
    pledge: Pledge,
    account: str,
    link: str,
    *,
    reminder: bool,
) -> OutgoingMessage:
    """The message with the one URL button every front end can show: ``link``, our short
    link that redirects to the network's compose screen with the text filled in; ``account``
    as its owner knows it."""
    text = pledge.text(campaign)
    key = "blast.tap_reminder" if reminder else "blast.tap_offer"
    label = t("blast.tap_button", network=t(f"network.{pledge.network}"))
    return OutgoingMessage.of(
        t(key, title=campaign.title, account=account),
        t("blast.tap_text", message=text),
        buttons=((Button(label, url=link),),),
    )


async def offer(
    *,
    repo: Repository,
    notifier: Notifier,
    registry: NetworkRegistry,
    writer: DeliveryWriter,
    links: TapLinks,
    campaign: Campaign,
    accounts: AccountSource,
    queued: list[Pledge],
    sending: list[Pledge],
    batch: int,
    concurrency: int,
    now: datetime,
) -> int:
    """Send every tap pledge its one-tap link; return how many were offered.

    Batches get their accounts, then are marked SENDING before their messages go (the
    next batch while this one's go); a batch interrupted by a crash, or marked ahead of
    one, is offered again on restart (a second link is better than none). Both lists are
    consumed as they are offered. A pledge whose supporter cannot be written to privately
    (blocked the bot, closed DMs) is still offered: the card's Post now button hands them
    the link; the refusal is remembered for the report.
    """
    limit = asyncio.Semaphore(concurrency)
    offered = 0

    async def send(pledge: Pledge, account: SocialAccount) -> None:
        nonlocal offered
        link = links.url(campaign, pledge)
        message = tap_message(campaign, pledge, registry.display(account), link, reminder=False)
        async with limit:
            reach = await notifier.reach_user(pledge.supporter, message)
            if reach is Reach.UNREACHABLE and pledge.id is not None:
                await repo.claim_event(
                    campaign.id or 0, EventKind.TAP_UNREACHABLE, now, subject=pledge.id
                )
        writer.add(replace(pledge, delivery=DeliveryState.TAP_OFFERED))
        offered += 1

    async def prepare(part: list[Pledge], mark: bool) -> list[tuple[Pledge, SocialAccount]]:
        found = await accounts.get([p.account_id for p in part])
        part = [p for p in part if p.account_id in found]  # the others were erased
        if mark:
            moved = set(
                await repo.set_delivery(
                    [p.id for p in part if p.id is not None],
                    DeliveryState.SENDING,
                    expected=DeliveryState.QUEUED,
                )
            )
            part = [p for p in part if p.id in moved]
        return [(p, found[p.account_id]) for p in part]

    def parts() -> Iterator[tuple[list[Pledge], bool]]:
        for pledges, mark in ((sending, False), (queued, True)):
            while pledges:
                part = pledges[:batch]
                del pledges[:batch]
                yield part, mark

    # the next batch is read and marked while this one's messages go: the front end's
    # rate limiter then never runs dry between two batches (one batch ahead at most)
    upcoming = parts()
    ahead = _prepare_next(upcoming, prepare)
    while ahead is not None:
        ready = await ahead
        ahead = _prepare_next(upcoming, prepare)
        try:
            await asyncio.gather(*(send(p, account) for p, account in ready))
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
    return offered


def _prepare_next(
    upcoming: Iterator[tuple[list[Pledge], bool]],
    prepare: Callable[[list[Pledge], bool], Awaitable[list[tuple[Pledge, SocialAccount]]]],
) -> asyncio.Task[list[tuple[Pledge, SocialAccount]]] | None:
    part = next(upcoming, None)
    if part is None:
        return None
    return asyncio.ensure_future(prepare(*part))


async def read_back(
    *,
    repo: Repository,
    networks: Mapping[Network, SocialNetwork],
    campaign: Campaign,
    offered: list[tuple[Pledge, SocialAccount]],
    concurrency: int,
) -> list[Pledge]:
    """Confirm the offered pledges whose account posted the campaign; return them."""
    limit = asyncio.Semaphore(concurrency)
    confirmed: list[Pledge] = []

    async def check(pledge: Pledge, account: SocialAccount) -> None:
        network = networks.get(pledge.network)
        if network is None:
            return
        async with limit:
            try:
                posts = await network.recent_posts(account, since=campaign.launch_at)
            except NetworkFailure as failure:
                log.info("read-back of pledge %s failed: %s", pledge.id, failure.outcome.kind)
                return
            except Exception:
                log.exception("read-back of pledge %s failed", pledge.id)
                return
        found = find_campaign_post(posts, pledge.text(campaign))
        if found is not None:
            posted = change_status(pledge, PledgeStatus.POSTED, at=found.created_at)
            confirmed.append(
                replace(posted, remote_post_id=found.remote_id, remote_post_url=found.url)
            )

    await asyncio.gather(*(check(p, a) for p, a in offered))
    for part in chunks(confirmed, 500):
        await repo.record_deliveries(part)
    log.info(
        "campaign %s read-back: %s of %s confirmed", campaign.ref, len(confirmed), len(offered)
    )
    return confirmed


async def remind(
    *,
    notifier: Notifier,
    registry: NetworkRegistry,
    links: TapLinks,
    campaign: Campaign,
    pending: list[tuple[Pledge, SocialAccount]],
    concurrency: int,
) -> int:
    """Nudge supporters who were offered a link and have not posted yet."""
    offered = registry.networks()
    messages = [
        (
            p.supporter,
            tap_message(campaign, p, registry.display(a), links.url(campaign, p), reminder=True),
        )
        for p, a in pending
        if p.network in offered
    ]
    return await send_each(notifier, messages, concurrency)
