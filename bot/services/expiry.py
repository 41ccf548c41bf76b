"""Expiring a campaign nobody moderated by its launch moment.

The scheduler runs this step at the launch moment of a campaign still waiting for
moderation. It is built before the scheduler and needs no campaign watcher: when the
scheduler itself expires a campaign, it drops that campaign's timers itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.campaign import AWAITING_REVIEW, Campaign, CampaignStatus, transition
from bot.domain.cards import CardKind
from bot.domain.errors import NotFound, StaleUpdate
from bot.domain.outgoing import OutgoingMessage
from bot.domain.text import t
from bot.notifier import Notifier
from bot.ports import Clock, Repository
from bot.services.cards import moderation_card

log = logging.getLogger(__name__)

EXPIRE_ATTEMPTS = 3


async def show_moderation_outcome(
    repo: Repository, notifier: Notifier, campaign: Campaign
) -> None:
    """The campaign's moderation cards show its outcome (their buttons go)."""
    assert campaign.id is not None
    card = moderation_card(campaign)
    for posted in await repo.cards_of(campaign.id, CardKind.MODERATION):
        await notifier.edit(posted.message, card, posted.language)


@dataclass(frozen=True)
class Expiry:
    repo: Repository
    clock: Clock
    notifier: Notifier

    async def expire(self, campaign_id: int) -> Campaign | None:
        """Expire the campaign if it still waits for moderation at its launch moment.

        The moderation cards lose their buttons and the organiser is told. None when there
        is nothing to expire: decided meanwhile (a decision at the same moment wins), or
        the moment not come yet.
        """
        for _ in range(EXPIRE_ATTEMPTS):
            campaign = await self.repo.get_campaign(campaign_id)
            now = self.clock.now()
            if campaign is None:
                raise NotFound("campaign.not_found", ref=str(campaign_id))
            if campaign.status not in AWAITING_REVIEW or now < campaign.launch_at:
                return None
            try:
                expired = await self.repo.update_campaign(
                    transition(campaign, CampaignStatus.EXPIRED, at=now)
                )
            except StaleUpdate:  # changed at the same moment: look again
                continue
            await show_moderation_outcome(self.repo, self.notifier, expired)
            await self.notifier.send_to_user(
                expired.organiser,
                OutgoingMessage.of(
                    t(
                        "organiser.expired",
                        title=expired.title,
                        ref=expired.ref,
                        launch_at=expired.launch_at,
                    )
                ),
            )
            log.info("campaign %s expired without a moderation decision", expired.ref)
            return expired
        raise StaleUpdate()
