"""Keeps every promotion card of a campaign up to date, batching bursts of pledges.

A burst of a hundred pledges in a second becomes one edit per card, not a hundred,
which keeps the bot clear of chat platforms' flood limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats, CardKind
from bot.domain.events import EventKind
from bot.domain.outgoing import OutgoingMessage
from bot.notifier import Edited, Notifier
from bot.ports import Clock, Repository
from bot.services.cards import campaign_card

log = logging.getLogger(__name__)

LIVE_CARDS = frozenset({CardKind.PROMOTION, CardKind.SHARED})  # the cards showing progress


class CardUpdater:
    def __init__(
        self,
        repo: Repository,
        notifier: Notifier,
        delay_seconds: float = 2.0,
        public_url: str | None = None,
        clock: Clock | None = None,
        on_change: Callable[[int], None] | None = None,
        on_refresh: Callable[[int], None] | None = None,
    ) -> None:
        """``clock``: with it the cards count the last hour down (without, they do not);
        ``on_change`` is told each campaign whose figures changed, at once (every pledge
        change and blast result requests a refresh here); ``on_refresh`` each campaign
        whose cards are refreshed (the request's change was told already)."""
        self._repo = repo
        self._on_change = on_change
        self._on_refresh = on_refresh
        self._notifier = notifier
        self._clock = clock
        self._delay = delay_seconds
        self.public_url = public_url  # the site whose /c/{REF} page the cards announce
        self._pending: dict[int, asyncio.Task[None]] = {}  # still waiting out the delay
        self._tasks: set[asyncio.Task[None]] = set()  # every refresh not yet finished

    def card(
        self,
        campaign: Campaign,
        stats: CampaignStats,
        *,
        now: datetime | None = None,
        post_now: bool = False,
    ) -> OutgoingMessage:
        """The campaign's card as every chat shows it, public page line included."""
        return campaign_card(campaign, stats, self.public_url, now=now, post_now=post_now)

    def request(self, campaign_id: int, *, changed: bool = True) -> None:
        """Refresh the cards soon; requests within the delay are merged into one.
        ``changed=False`` (the blast's running tally): the figures shown meanwhile are not
        dropped, only recomputed behind the next reader, so nobody asking during a blast
        waits for them (a person's own pledge change is ``changed``: it shows at once)."""
        if changed and self._on_change is not None:
            self._on_change(campaign_id)
        elif not changed and self._on_refresh is not None:
            self._on_refresh(campaign_id)
        if campaign_id in self._pending:
            return
        task = asyncio.get_running_loop().create_task(self._refresh_later(campaign_id))
        self._pending[campaign_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh_later(self, campaign_id: int) -> None:
        try:
            await asyncio.sleep(self._delay)
        finally:
            # A later request may already own the slot (after a flush): leave it alone.
            if self._pending.get(campaign_id) is asyncio.current_task():
                del self._pending[campaign_id]
        try:
            await self.refresh_now(campaign_id)
        except Exception:  # a background refresh must not die silently
            log.exception("refreshing the cards of campaign %s failed", campaign_id)

    async def refresh_now(self, campaign_id: int) -> None:
        if self._on_refresh is not None:
            self._on_refresh(campaign_id)
        campaign = await self._repo.get_campaign(campaign_id)
        if campaign is None:
            return
        stats = await self._repo.campaign_stats(campaign_id)
        now = self._clock.now() if self._clock is not None else None
        card = self.card(campaign, stats, now=now, post_now=await self.post_now_open(campaign))
        for posted in await self._repo.cards_of(campaign_id):
            if posted.kind not in LIVE_CARDS:
                continue
            edited = await self._notifier.edit_or_gone(posted.message, card, posted.language)
            if edited is Edited.GONE and posted.kind is CardKind.SHARED and posted.id is not None:
                await self._repo.remove_card(posted.id)  # deleted, or too old: never again

    async def post_now_open(self, campaign: Campaign) -> bool:
        """Whether the cards offer Post now: tap links are out and the report not written."""
        if campaign.id is None or not campaign.tap_offered:
            return False
        if campaign.status not in (CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED):
            return False
        return not await self._repo.event_claimed(campaign.id, EventKind.REPORT)

    async def flush(self) -> None:
        """Run every pending refresh now and wait for those under way (tests, shutdown)."""
        pending = list(self._pending.items())
        for campaign_id, task in pending:
            task.cancel()
            self._pending.pop(campaign_id, None)
            await self.refresh_now(campaign_id)
        running = [task for task in self._tasks if not task.done()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)
