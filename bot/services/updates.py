"""Organiser updates: ``/update REF text`` sends a short note to every supporter privately.

Only the organiser of a campaign that is live, launching or launched may send one, at most
UPDATES_PER_DAY in any rolling 24 hours (the update is stored before it goes, in the same
transaction as the count, so a crash or two commands at once never exceed the limit). Each
distinct supporter gets it once, in a private message with a button to mute the
campaign's updates; muted supporters and those without a private chat (web pledges) are
skipped. Messages go a bounded number at a time; each front end paces itself to its
platform's limits (Telegram's rate limiter, discord.py's buckets). The organiser is told
how many it reached.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.domain.updates import CampaignUpdate, update_text
from bot.notifier import Notifier
from bot.ports import Clock, Repository
from bot.services.campaigns import CampaignService

log = logging.getLogger(__name__)

MUTE_ACTION = "mute"
UNMUTE_ACTION = "unmute"
WINDOW = timedelta(hours=24)
SENDABLE = frozenset({CampaignStatus.LIVE, CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED})


def update_message(campaign: Campaign, text: str) -> OutgoingMessage:
    """What a supporter reads: whose update, the organiser's words as typed, a mute button."""
    mute = Button(t("update.button_mute"), action=f"{MUTE_ACTION}:{campaign.ref}")
    return OutgoingMessage.of(
        t("update.header", title=campaign.title, ref=campaign.ref),
        t("update.body", text=text),
        buttons=((mute,),),
    )


def update_sent(campaign: Campaign, update: CampaignUpdate) -> OutgoingMessage:
    """The organiser's answer: how many of the supporters the update reached."""
    return OutgoingMessage.of(
        t(
            "update.sent",
            title=campaign.title,
            reached=update.reached,
            total=update.total,
            muted=update.muted,
            unreachable=update.unreachable,
        )
    )


def muted_message(campaign: Campaign) -> OutgoingMessage:
    unmute = Button(t("update.button_unmute"), action=f"{UNMUTE_ACTION}:{campaign.ref}")
    return OutgoingMessage.of(
        t("update.muted", title=campaign.title, ref=campaign.ref), buttons=((unmute,),)
    )


def unmuted_message(campaign: Campaign) -> OutgoingMessage:
    mute = Button(t("update.button_mute"), action=f"{MUTE_ACTION}:{campaign.ref}")
    return OutgoingMessage.of(
        t("update.unmuted", title=campaign.title, ref=campaign.ref), buttons=((mute,),)
    )


class UpdateService:
    """Sends organisers' updates and keeps supporters' mutes; built once by the root."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        notifier: Notifier,
        campaigns: CampaignService,
        *,
        per_day: int,
        concurrency: int,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.notifier = notifier
        self.campaigns = campaigns
        self.per_day = per_day
        self.concurrency = concurrency

    async def send(self, ref: str, organiser: UserRef, raw_text: str) -> OutgoingMessage:
        """Send the organiser's update to the campaign's supporters; the answer for them."""
        campaign = await self.campaigns.get(ref)
        assert campaign.id is not None
        if not campaign.organiser.same_person(organiser):
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        if campaign.status not in SENDABLE:
            raise DomainError(
                "update.not_live", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
            )
        text = update_text(raw_text)
        now = self.clock.now()
        stored = await self.repo.add_update(
            CampaignUpdate(campaign.id, text, now), since=now - WINDOW, limit=self.per_day
        )
        if stored is None:
            times = await self.repo.update_times(campaign.id, now - WINDOW)
            oldest_counted = times[max(0, len(times) - self.per_day)] if times else now
            raise DomainError(
                "update.rate_limited", count=self.per_day, next_at=oldest_counted + WINDOW
            )
        done = await self._deliver(campaign, stored)
        await self.repo.finish_update(done)
        log.info(
            "campaign %s update %s: reached %s of %s (%s muted, %s unreachable)",
            campaign.ref,
            done.id,
            done.reached,
            done.total,
            done.muted,
            done.unreachable,
        )
        return update_sent(campaign, done)

    async def _deliver(self, campaign: Campaign, update: CampaignUpdate) -> CampaignUpdate:
        assert campaign.id is not None
        pledges = await self.repo.pledges_of_campaign(
            campaign.id, [PledgeStatus.PLEDGED, PledgeStatus.POSTED, PledgeStatus.FAILED]
        )
        people = {p.supporter.key: p.supporter for p in pledges}
        muted_keys = await self.repo.muted_people(campaign.id)
        muted = [p for key, p in people.items() if key in muted_keys]
        listening = [p for key, p in people.items() if key not in muted_keys]
        # a web pledge has no chat: no front end serves its platform
        chats = [p for p in listening if self.notifier.front_end(p.platform) is not None]
        message = update_message(campaign, update.text)
        limit = asyncio.Semaphore(self.concurrency)

        async def deliver(person: UserRef) -> bool:
            async with limit:
                return await self.notifier.send_to_user(person, message) is not None

        reached = sum(await asyncio.gather(*(deliver(p) for p in chats)))
        return replace(
            update,
            total=len(people),
            reached=reached,
            muted=len(muted),
            unreachable=len(listening) - reached,
        )

    async def mute(self, ref: str, person: UserRef) -> OutgoingMessage:
        """``person`` gets no more updates of the campaign (until they unmute)."""
        campaign = await self.campaigns.get(ref)
        assert campaign.id is not None
        await self.repo.set_update_mute(campaign.id, person, muted=True, at=self.clock.now())
        return muted_message(campaign)

    async def unmute(self, ref: str, person: UserRef) -> OutgoingMessage:
        campaign = await self.campaigns.get(ref)
        assert campaign.id is not None
        await self.repo.set_update_mute(campaign.id, person, muted=False, at=self.clock.now())
        return unmuted_message(campaign)
