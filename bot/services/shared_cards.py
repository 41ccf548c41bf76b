"""Campaign cards that people place themselves, in chats the bot need not be a member of.

A front end may let anyone look a live campaign up (by its reference or words of its
title) and drop its card into any chat (an inline mode). The cards placed are
remembered as ``SHARED`` cards, so the card updater keeps their figures current; only the
most recent few per campaign are kept, so someone placing the card a thousand times costs
a bounded number of edits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.campaign import Campaign, CampaignStatus, normalise_ref
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import MessageRef
from bot.ports import Clock, Repository
from bot.services.cards import campaign_card

log = logging.getLogger(__name__)

OFFER_LIMIT = 10  # campaigns offered for one lookup
SHARED_CARDS_KEPT = 20  # per campaign: the most recent placements are kept current
QUERY_MAX_WORDS = 8  # a lookup is a reference or a few words of a title, not an essay
QUERY_MAX_CHARS = 256  # Telegram's own cap on an inline query


@dataclass(frozen=True)
class Offer:
    """A live campaign someone may place, with its card as it stands."""

    campaign: Campaign
    stats: CampaignStats
    card: OutgoingMessage


@dataclass
class SharedCards:
    repo: Repository
    clock: Clock
    kept: int = SHARED_CARDS_KEPT

    async def offer(self, query: str, limit: int = OFFER_LIMIT) -> list[Offer]:
        """Live campaigns matching ``query``: its reference first, then those whose title
        holds every word; with an empty query the ones launching soonest. Never a campaign
        waiting for moderation, rejected, cancelled or past its launch moment."""
        now = self.clock.now()
        live = sorted(
            (c for c in await self.repo.campaigns_in({CampaignStatus.LIVE}) if c.launch_at > now),
            key=lambda c: (c.launch_at, c.ref),
        )
        words = query[:QUERY_MAX_CHARS].casefold().split()
        if len(words) > QUERY_MAX_WORDS:
            return []
        if words:
            ref = normalise_ref(words[0]) if len(words) == 1 else ""
            by_ref = [c for c in live if c.ref == ref]
            by_title = [
                c
                for c in live
                if c.ref != ref and all(word in c.title.casefold() for word in words)
            ]
            live = by_ref + by_title
        offers = []
        for campaign in live[: max(0, limit)]:
            assert campaign.id is not None
            stats = await self.repo.campaign_stats(campaign.id)
            offers.append(Offer(campaign, stats, campaign_card(campaign, stats)))
        return offers

    async def placed(self, ref: str, message: MessageRef, language: str) -> PostedCard | None:
        """Someone placed the card of ``ref`` as ``message``: keep it current from now on.

        Returns the stored card, or None for an unknown reference. Beyond ``kept`` placed
        cards for one campaign, the oldest are forgotten (they keep their last figures).
        """
        campaign = await self.repo.find_campaign(normalise_ref(ref))
        if campaign is None or campaign.id is None:
            log.info("a placed card names no campaign: %r", ref[:64])
            return None
        card = await self.repo.add_card(
            PostedCard(campaign.id, CardKind.SHARED, message, self.clock.now(), language)
        )
        shared = await self.repo.cards_of(campaign.id, CardKind.SHARED)
        shared.sort(key=lambda c: (c.posted_at, c.id or 0))
        for old in shared[: max(0, len(shared) - self.kept)]:
            assert old.id is not None
            await self.repo.remove_card(old.id)
        return card
