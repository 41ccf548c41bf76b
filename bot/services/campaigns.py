"""Organiser use cases: submit, cancel, promote, list (moderation: ``bot.services.moderation``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.dialog import CampaignDraft
from bot.domain.campaign import (
    GOAL_MAX,
    NOT_YET_LAUNCHED,
    Campaign,
    CampaignStatus,
    JoinLink,
    new_ref,
    normalise_ref,
    transition,
    validate_story,
    validate_title,
)
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound, StaleUpdate
from bot.domain.launch_time import MAX_AHEAD
from bot.domain.message_rules import validate_message
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import ChatRef, UserRef
from bot.domain.text import t
from bot.domain.variants import validate_variants
from bot.notifier import Notifier
from bot.ports import CampaignWatcher, Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.card_updates import CardUpdater
from bot.services.cards import moderation_card
from bot.services.expiry import show_moderation_outcome
from bot.services.revocations import Revocations

log = logging.getLogger(__name__)

REF_ATTEMPTS = 8
INVITE_MAX = 200
DEFAULT_MAX_PENDING = 3


@dataclass
class CampaignService:
    repo: Repository
    clock: Clock
    notifier: Notifier
    cards: CardUpdater
    min_lead: timedelta
    revocations: Revocations
    registry: NetworkRegistry  # the networks' message length rules
    watcher: CampaignWatcher  # the launch scheduler: hears every status change
    max_pending: int = DEFAULT_MAX_PENDING  # campaigns one organiser may have in moderation
    public_url: str = ""  # the pledge site, for the picture link on the moderation card

    async def get(self, ref: str) -> Campaign:
        campaign = await self.repo.find_campaign(normalise_ref(ref))
        if campaign is None:
            raise NotFound("campaign.not_found", ref=normalise_ref(ref) or "?")
        return campaign

    async def get_by_id(self, campaign_id: int) -> Campaign:
        campaign = await self.repo.get_campaign(campaign_id)
        if campaign is None:
            raise NotFound("campaign.not_found", ref=str(campaign_id))
        return campaign

    async def submit(
        self,
        draft: CampaignDraft,
        organiser: UserRef,
        origin: ChatRef | None = None,
        *,
        promote_origin: bool = False,
    ) -> Campaign:
        """Create the campaign and send it to the moderators.

        ``origin`` is the chat where the organiser created it; with ``promote_origin`` (a
        shared chat, never a private one: the front end knows) its card is posted there
        once approved, unless the organiser declines meanwhile (``set_origin_promotion``).

        Refused with ``campaign.too_many_pending`` while the organiser already has
        ``max_pending`` campaigns waiting for moderation (the caller keeps the draft).
        """
        await self._check_queue(organiser)
        now = self.clock.now()
        if draft.launch_at - now < self.min_lead:
            raise InvalidInput("launch.too_soon", minutes=int(self.min_lead.total_seconds() // 60))
        if draft.launch_at - now > MAX_AHEAD:
            raise InvalidInput("launch.too_far")
        validate_message(draft.message, self.registry.specs(draft.networks))
        variants = validate_variants(
            draft.message, draft.variants, self.registry.specs(draft.networks)
        )
        if not draft.networks:
            raise InvalidInput("networks.none_chosen")
        title = validate_title(draft.title)  # a stored draft may predate today's rules
        if not 0 <= draft.goal <= GOAL_MAX:
            raise InvalidInput("goal.too_big" if draft.goal > 0 else "goal.negative", max=GOAL_MAX)
        draft_campaign = Campaign(
            ref=new_ref(),
            title=title,
            message=draft.message,
            goal=draft.goal,
            launch_at=draft.launch_at,
            networks=draft.networks,
            organiser=organiser,
            created_at=now,
            origin_chat=origin,
            story=validate_story(draft.story) if draft.story else None,
            picture=draft.picture,
            promote_origin=promote_origin and origin is not None,
            variants=variants,
        )
        pending = transition(draft_campaign, CampaignStatus.PENDING_REVIEW, at=now)
        campaign = await self._insert_with_unique_ref(pending)
        picture_url = (
            f"{self.public_url}/pictures/{campaign.picture}" if campaign.picture else None
        )
        posted = await self.notifier.send_to_moderators(moderation_card(campaign, picture_url))
        for ref in posted:
            assert campaign.id is not None
            await self.repo.add_card(PostedCard(campaign.id, CardKind.MODERATION, ref, now))
        if not posted:
            log.warning("campaign %s reached no moderation chat: check the settings", campaign.ref)
        await self.watcher.campaign_changed(campaign)  # arms its expiry at the launch moment
        log.info("campaign %s submitted by %s", campaign.ref, organiser.key)
        return campaign

    async def _check_queue(self, organiser: UserRef) -> None:
        waiting = [
            c
            for c in await self.repo.campaigns_of(organiser)
            if c.status is CampaignStatus.PENDING_REVIEW
        ]
        if len(waiting) >= self.max_pending:
            log.info("campaign of %s refused: %s already waiting", organiser.key, len(waiting))
            raise DomainError("campaign.too_many_pending", max=self.max_pending)

    async def _insert_with_unique_ref(self, campaign: Campaign) -> Campaign:
        for _ in range(REF_ATTEMPTS):
            if await self.repo.find_campaign(campaign.ref) is None:
                return await self.repo.add_campaign(campaign)
            campaign = replace(campaign, ref=new_ref())
        raise DomainError("error.internal")

    async def status_changed(self, campaign: Campaign) -> None:
        """After a moderation outcome: the moderation cards show it (their buttons go) and
        the watcher hears of it."""
        await show_moderation_outcome(self.repo, self.notifier, campaign)
        await self.watcher.campaign_changed(campaign)

    async def cancel(self, ref: str, organiser: UserRef) -> Campaign:
        """The organiser withdraws a campaign that has not launched; supporters are told."""
        campaign = await self.get(ref)
        if not campaign.organiser.same_person(organiser):
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        if campaign.status not in NOT_YET_LAUNCHED:
            raise DomainError(
                "campaign.cannot_cancelled",
                ref=campaign.ref,
                status=t(f"status.{campaign.status.value}"),
            )
        cancelled = await self.repo.update_campaign(
            transition(campaign, CampaignStatus.CANCELLED, at=self.clock.now(), by=organiser)
        )
        assert cancelled.id is not None
        if campaign.status is CampaignStatus.PENDING_REVIEW:
            await self.status_changed(cancelled)  # the moderators' buttons go away
        else:
            await self.watcher.campaign_changed(cancelled)
        await self.cards.refresh_now(cancelled.id)
        notice = OutgoingMessage.of(t("supporter.campaign_cancelled", title=cancelled.title))
        pledges = await self.repo.pledges_of_campaign(cancelled.id, [PledgeStatus.PLEDGED])
        for supporter in {p.supporter.key: p.supporter for p in pledges}.values():
            await self.notifier.send_to_user(supporter, notice)
        await self.revocations.queue_unused({p.account_id for p in pledges})  # if no other
        return cancelled

    async def promote(
        self,
        ref: str,
        chat: ChatRef,
        requester: UserRef,
        *,
        requester_is_admin: bool,
        language: str = "en",
    ) -> PostedCard:
        """Post the campaign card in ``chat`` (organiser or a chat admin only).

        A chat holds one card per campaign: promoting again posts a fresh card and deletes
        the old one (one already gone from the chat is no matter). The first card that has
        a web link gives the public page its chat link (unless the organiser gave an
        invite), and a card that replaces the linked one takes its link over.
        """
        campaign = await self.get(ref)
        if not (requester_is_admin or campaign.organiser.same_person(requester)):
            raise NotAllowed("promote.not_allowed")
        if campaign.status is not CampaignStatus.LIVE:
            raise DomainError(
                "promote.not_live", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
            )
        assert campaign.id is not None
        stats = await self.repo.campaign_stats(campaign.id)
        message_ref = await self.notifier.send(chat, self.cards.card(campaign, stats), language)
        if message_ref is None:
            raise DomainError("promote.send_failed")
        card, replaced = await self.repo.replace_chat_card(
            PostedCard(campaign.id, CardKind.PROMOTION, message_ref, self.clock.now(), language)
        )
        for old in replaced:
            await self.notifier.delete(old.message)
        if replaced:
            log.info("card of campaign %s moved in %s", campaign.ref, message_ref.chat.platform)
        await self._link_card(campaign.ref, card, replaced)
        return card

    async def set_origin_promotion(self, ref: str, organiser: UserRef, wanted: bool) -> Campaign:
        """The organiser says whether the card goes where the campaign was created once
        approved; only theirs, only a campaign with such a chat, only before approval."""
        campaign = await self.get(ref)
        if not campaign.organiser.same_person(organiser):
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        if campaign.origin_chat is None:
            raise DomainError("origin.none", ref=campaign.ref)
        if campaign.status is not CampaignStatus.PENDING_REVIEW:
            raise DomainError(
                "origin.decided", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
            )
        if campaign.promote_origin == wanted:
            return campaign
        return await self.repo.update_campaign(replace(campaign, promote_origin=wanted))

    async def promote_in_origin(self, campaign: Campaign) -> PostedCard | None:
        """Once approved: post the card where the campaign was created, if the organiser
        wanted it (the one-card-per-chat rule of ``promote`` holds). If the chat refuses
        (the bot lost access, the channel is gone), the organiser is told; nothing raises.
        The first card there gives the public page its chat link, unless an invite did."""
        if not campaign.promote_origin or campaign.origin_chat is None:
            return None
        try:
            card = await self.promote(
                campaign.ref,
                campaign.origin_chat,
                campaign.organiser,
                requester_is_admin=False,
                language=campaign.organiser.language,
            )
        except DomainError as exc:
            log.warning("card of %s not posted where it was created: %s", campaign.ref, exc)
            await self.notifier.send_to_user(
                campaign.organiser,
                OutgoingMessage.of(
                    t("origin.unreachable", title=campaign.title, ref=campaign.ref)
                ),
            )
            return None
        return card

    async def _link_card(self, ref: str, card: PostedCard, replaced: list[PostedCard]) -> None:
        """Point the public page's chat link at ``card``: if there is none yet, or the
        card it pointed to was just replaced (deleted); never over an invite."""
        linked = (await self.get(ref)).join_link
        if linked is not None:
            if linked.invite or not replaced:
                return
            old_urls = [await self.notifier.message_link(old.message) for old in replaced]
            if linked.url not in old_urls:
                return  # it points to a card elsewhere, still there
        url = await self.notifier.message_link(card.message)
        if url is None:
            return  # a chat with no web link (a private one, or a platform without)
        link = JoinLink(card.message.chat.platform, url)
        for _ in range(REF_ATTEMPTS):
            fresh = await self.get(ref)
            if fresh.join_link != linked:
                return  # an invite, or another card, came at the same moment
            try:
                await self.repo.update_campaign(replace(fresh, join_link=link))
            except StaleUpdate:
                continue  # changed at the same moment: look again
            return

    async def set_invite(self, ref: str, organiser: UserRef, platform: str, url: str) -> Campaign:
        """The organiser's invite to the chat where people join, for the public page.

        The front end checks the link is one of its platform's invites; the core only
        refuses what no invite is (not https, too long) and anyone but the organiser.
        """
        campaign = await self.get(ref)
        if not campaign.organiser.same_person(organiser):
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        if campaign.status not in NOT_YET_LAUNCHED:
            raise DomainError(
                "invite.too_late", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
            )
        if (
            not url.startswith("https://")
            or len(url) > INVITE_MAX
            or any(c.isspace() for c in url)
        ):
            raise InvalidInput("invite.bad_url")
        return await self.repo.update_campaign(
            replace(campaign, join_link=JoinLink(platform, url, invite=True))
        )

    def card(self, campaign: Campaign, stats: CampaignStats) -> OutgoingMessage:
        """The campaign's card as the chats show it (for a front end's status command)."""
        return self.cards.card(campaign, stats)

    async def stats(self, campaign: Campaign) -> CampaignStats:
        """The campaign's figures now."""
        assert campaign.id is not None
        return await self.repo.campaign_stats(campaign.id)

    async def upcoming(self) -> list[Campaign]:
        """Live campaigns whose launch moment is still ahead, soonest first."""
        now = self.clock.now()
        live = await self.repo.campaigns_in({CampaignStatus.LIVE})
        return sorted((c for c in live if c.launch_at > now), key=lambda c: c.launch_at)

    async def of_organiser(self, organiser: UserRef) -> list[tuple[Campaign, CampaignStats]]:
        result = []
        for campaign in await self.repo.campaigns_of(organiser):
            assert campaign.id is not None
            result.append((campaign, await self.repo.campaign_stats(campaign.id)))
        return result
