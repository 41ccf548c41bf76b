"""Moderator use cases: approve, reject (at once, or after a prompt for the reason),
request changes (the same, with a note for the organiser, who edits and resubmits through
``bot.services.campaign_edits``), list what waits (expiring what nobody decided is
``bot.services.expiry``).

The front end says whether the person is a moderator on its platform (``may_moderate``);
this service owns what follows: refusing the others, the campaign's transition, the
moderation cards and the organiser's notice. A rejection started on a platform that asks
for the reason in a later message is kept in the database (``PendingReason``) so a
restart between the press and the reason loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.campaign import Campaign, CampaignStatus, transition
from bot.domain.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from bot.domain.moderation import PendingReason, ReasonKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.notifier import Notifier
from bot.ports import Clock, Repository
from bot.services.campaigns import CampaignService
from bot.services.cards import with_page_line

log = logging.getLogger(__name__)

REASON_WAIT = timedelta(days=1)  # a prompt for a reason left unanswered this long lapses

AskReason = Callable[[Campaign], Awaitable[str]]  # posts the prompt, returns its message id


@dataclass
class ModerationService:
    repo: Repository
    clock: Clock
    notifier: Notifier
    campaigns: CampaignService
    reason_wait: timedelta = REASON_WAIT
    public_url: str | None = None  # the site whose public page the approval announces

    async def pending(self, *, may_moderate: bool) -> list[Campaign]:
        """The campaigns waiting for moderation, oldest first."""
        if not may_moderate:
            raise NotAllowed("pending.not_moderator")
        waiting = await self.repo.campaigns_in({CampaignStatus.PENDING_REVIEW})
        return sorted(waiting, key=lambda c: (c.created_at, c.id or 0))

    async def approve(
        self, campaign_id: int, moderator: UserRef, *, may_moderate: bool
    ) -> Campaign:
        _refuse_unless_moderator(moderator, may_moderate)
        campaign = await self.campaigns.get_by_id(campaign_id)
        now = self.clock.now()
        _refuse_if_expired(campaign)
        if campaign.launch_at <= now:
            raise InvalidInput("moderation.launch_passed", ref=campaign.ref)
        live = await self.repo.update_campaign(
            transition(campaign, CampaignStatus.LIVE, at=now, by=moderator)
        )
        await self.campaigns.status_changed(live)
        await self.notifier.send_to_user(
            live.organiser,
            with_page_line(
                OutgoingMessage.of(t("organiser.approved", title=live.title, ref=live.ref)),
                live,
                self.public_url,
            ),
        )
        await self.campaigns.promote_in_origin(live)
        return live

    async def reject(
        self, campaign_id: int, moderator: UserRef, reason: str, *, may_moderate: bool
    ) -> Campaign:
        _refuse_unless_moderator(moderator, may_moderate)
        campaign = await self.campaigns.get_by_id(campaign_id)
        _refuse_if_expired(campaign)
        rejected = await self.repo.update_campaign(
            transition(
                campaign, CampaignStatus.REJECTED, at=self.clock.now(), by=moderator, reason=reason
            )
        )
        await self.campaigns.status_changed(rejected)
        await self.notifier.send_to_user(
            rejected.organiser,
            OutgoingMessage.of(
                t("organiser.rejected", title=rejected.title, reason=rejected.reject_reason)
            ),
        )
        return rejected

    async def request_changes(
        self, campaign_id: int, moderator: UserRef, note: str, *, may_moderate: bool
    ) -> Campaign:
        """Send the campaign back to its organiser with ``note``: same reference, the
        moderation cards show who asked what, the organiser reads the note and how to edit."""
        _refuse_unless_moderator(moderator, may_moderate)
        campaign = await self.campaigns.get_by_id(campaign_id)
        _refuse_if_expired(campaign)
        asked = await self.repo.update_campaign(
            transition(
                campaign,
                CampaignStatus.CHANGES_REQUESTED,
                at=self.clock.now(),
                by=moderator,
                reason=note,
            )
        )
        await self.campaigns.status_changed(asked)
        await self.notifier.send_to_user(
            asked.organiser,
            OutgoingMessage.of(
                t(
                    "changes.to_organiser",
                    title=asked.title,
                    ref=asked.ref,
                    note=asked.reject_reason or "",
                )
            ),
        )
        log.info("changes requested on campaign %s by %s", asked.ref, moderator.key)
        return asked

    async def start_rejection(
        self,
        campaign_id: int,
        moderator: UserRef,
        ask: AskReason,
        *,
        may_moderate: bool,
        kind: ReasonKind = ReasonKind.REJECT,
    ) -> Campaign:
        """Ask ``moderator`` for the reason (``ask`` posts the prompt) and wait for it;
        with ``kind`` CHANGES, for the note of a change request.

        Replaces any rejection (or request) the moderator had started before.
        """
        _refuse_unless_moderator(moderator, may_moderate)
        campaign = await self.campaigns.get_by_id(campaign_id)
        if campaign.status is not CampaignStatus.PENDING_REVIEW:
            target = (
                CampaignStatus.REJECTED
                if kind is ReasonKind.REJECT
                else CampaignStatus.CHANGES_REQUESTED
            )
            raise InvalidTransition(
                f"campaign.cannot_{target.value}",
                ref=campaign.ref,
                status=t(f"status.{campaign.status.value}"),
            )
        prompt_id = await ask(campaign)
        expires_at = self.clock.now() + self.reason_wait
        await self.repo.save_pending_reason(
            PendingReason(moderator.key, campaign_id, prompt_id, expires_at, kind)
        )
        return campaign

    async def give_reason(
        self, moderator: UserRef, prompt_id: str, reason: str
    ) -> Campaign | None:
        """Reject with ``reason`` if it answers the moderator's pending prompt ``prompt_id``
        (or request changes with it as the note, if that is what the prompt asked for).

        None when it does not (moderators talking among themselves). An unusable reason
        keeps the rejection waiting for the next answer; any other refusal ends it.
        """
        waiting = await self.repo.pending_reason(moderator.key, self.clock.now())
        if waiting is None or waiting.prompt_id != prompt_id:
            return None
        try:
            decide = self.reject if waiting.kind is ReasonKind.REJECT else self.request_changes
            campaign = await decide(waiting.campaign_id, moderator, reason, may_moderate=True)
        except InvalidInput:
            raise  # keep waiting: the next reply may carry a usable reason
        except DomainError:
            await self.cancel_rejection(moderator)
            raise
        await self.cancel_rejection(moderator)
        return campaign

    async def cancel_rejection(self, moderator: UserRef) -> None:
        """Stop waiting for the moderator's reason (nothing happens if none is awaited)."""
        await self.repo.drop_pending_reason(moderator.key)


def _refuse_unless_moderator(person: UserRef, may_moderate: bool) -> None:
    if not may_moderate:
        log.info("%s tried to moderate without the right", person.key)
        raise NotAllowed("moderation.not_moderator")


def _refuse_if_expired(campaign: Campaign) -> None:
    """A moderator acting on an expired campaign (an old card, a stale list) is told so."""
    if campaign.status is CampaignStatus.EXPIRED:
        raise DomainError("moderation.expired", ref=campaign.ref)
