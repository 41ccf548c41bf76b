"""Supporter use cases: get a pledge link, pledge, list, unpledge, forget.

Recording a pledge is one place: every rule is checked, the link used up, then the account
and the pledge stored, the supporter told, the cards refreshed and milestones announced.
Tokens fetched for a pledge that is refused are revoked, never kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.account import LinkedProfile, SocialAccount
from bot.domain.campaign import Campaign, CampaignStatus, normalise_ref
from bot.domain.errors import DomainError, InvalidInput, LinkedByOther, NotFound
from bot.domain.events import EventKind
from bot.domain.message_rules import validate_personalised
from bot.domain.networks import DeliveryMode
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.domain.variants import assign_variant
from bot.notifier import Notifier
from bot.ports import Clock, Repository
from bot.progress import crossed_milestones
from bot.registry import NetworkRegistry
from bot.services.announcer import Announcer
from bot.services.campaigns import CampaignService
from bot.services.card_updates import CardUpdater
from bot.services.links import PledgeLinks, PledgeTicket
from bot.services.recruiter_names import consent_button
from bot.services.recruits import RecruitCodes, split_start_payload
from bot.services.revocations import Revocations, Unrevoked
from bot.services.share_links import share_links
from bot.services.sources import ChatSource, checked_source

log = logging.getLogger(__name__)
SHARE_BUTTONS_PER_ROW = 2


@dataclass(frozen=True)
class _Admitted:
    """A pledge that passed every rule, as ``record`` found things before writing."""

    campaign: Campaign
    personal: str | None  # the supporter's own words, if they differ from the campaign's
    withdrawn: Pledge | None  # this account's earlier pledge to the campaign, to renew
    before: int  # supporters before this pledge
    recruited_by: str | None  # who brought this person: their first pledge's, else the link's
    variant: int | None  # the wording the supporter chose on the pledge page, if any


@dataclass(frozen=True)
class Forgotten:
    """What /forget erased, and the accounts whose access could not be revoked yet."""

    accounts: int
    pledges: int
    unrevoked: tuple[Unrevoked, ...] = ()


@dataclass
class PledgeService:
    repo: Repository
    clock: Clock
    notifier: Notifier
    cards: CardUpdater
    campaigns: CampaignService
    links: PledgeLinks
    public_url: str
    registry: NetworkRegistry  # delivery modes, length rules, account display
    revocations: Revocations
    announcer: Announcer  # the milestones, in the promoted chats
    recruits: RecruitCodes

    async def open_campaign(self, ref: str) -> Campaign:
        campaign = await self.campaigns.get(ref)
        self.ensure_open(campaign)
        return campaign

    def ensure_open(self, campaign: Campaign) -> None:
        """Refuse unless the campaign takes pledges (``Campaign.open_for_pledges``)."""
        if campaign.open_for_pledges(self.clock.now()):
            return
        launching_or_past = {
            CampaignStatus.LIVE,
            CampaignStatus.LAUNCHING,
            CampaignStatus.LAUNCHED,
        }
        if campaign.status in launching_or_past:
            raise DomainError("pledge.already_launched", title=campaign.title)
        raise DomainError(
            "pledge.not_open", title=campaign.title, status=t(f"status.{campaign.status.value}")
        )

    async def support(
        self,
        ref: str,
        supporter: UserRef,
        via: str | None = None,
        source: ChatSource | None = None,
    ) -> tuple[Campaign, OutgoingMessage]:
        """What a supporter sees after pressing Support: the campaign and their own link.

        ``ref`` may be a ``REF_CODE`` start payload; ``via`` (or that code) is a recruit
        code, carried in the link when it names another supporter of the campaign;
        ``source`` the chat whose card was pressed, carried when the campaign has a card
        there (else dropped: the source is then unknown).
        """
        ref, code = split_start_payload(ref)
        campaign = await self.open_campaign(ref)
        recruiter = await self.recruits.recruiter(campaign, via or code)
        if recruiter is not None and recruiter.same_person(supporter):
            recruiter = None
        source = await checked_source(self.repo, campaign, source)
        url = self.pledge_url(campaign, supporter, recruiter.key if recruiter else None, source)
        assert campaign.id is not None
        stats = await self.repo.campaign_stats(campaign.id)
        message = OutgoingMessage.of(
            t(
                "supporter.intro",
                title=campaign.title,
                message=campaign.message,
                launch_at=campaign.launch_at,
                supporters=stats.supporters,
            ),
            t("supporter.link_note"),
            buttons=((Button(t("button.pledge"), url=url),),),
        )
        return campaign, message

    def pledge_url(
        self,
        campaign: Campaign,
        supporter: UserRef,
        recruited_by: str | None = None,
        source: ChatSource | None = None,
    ) -> str:
        token = self.links.issue(campaign.ref, supporter, recruited_by, source)
        return f"{self.public_url}/pledge/{token}"

    def recruit_url(self, campaign: Campaign, supporter: UserRef) -> str:
        """The supporter's own link to bring others: the public page, carrying their code."""
        return (
            f"{self.public_url}/c/{campaign.ref}?via={self.recruits.code(campaign.ref, supporter)}"
        )

    async def recruit_buttons(
        self, campaign: Campaign, supporter: UserRef, named: bool | None = None
    ) -> tuple[tuple[Button, ...], ...]:
        """With the recruit link: the consent toggle (``named``: whether the supporter lets
        their name show, read if not given), then share links carrying the supporter's
        own code (web pages only: chat buttons take no ``mailto:``)."""
        assert campaign.id is not None
        if named is None:
            named = supporter.key in await self.repo.recruiter_names(campaign.id)
        url = self.recruit_url(campaign, supporter)
        shares = [
            Button(t(link.name_key), url=link.url)
            for link in share_links(self.registry, campaign.title, url)
            if link.url.startswith("https://")
        ]
        per_row = SHARE_BUTTONS_PER_ROW
        rows = [shares[i : i + per_row] for i in range(0, len(shares), per_row)]
        return ((consent_button(campaign.ref, named),), *(tuple(row) for row in rows))

    async def record(
        self,
        ticket: PledgeTicket,
        profile: LinkedProfile,
        message: str | None = None,
        variant: int | None = None,
    ) -> Pledge:
        """``record_with_campaign``, the pledge alone."""
        pledge, _ = await self.record_with_campaign(ticket, profile, message, variant)
        return pledge

    async def record_with_campaign(
        self,
        ticket: PledgeTicket,
        profile: LinkedProfile,
        message: str | None = None,
        variant: int | None = None,
    ) -> tuple[Pledge, Campaign]:
        """Store the linked account and the pledge; the ticket is used up here. The
        campaign comes back as read to admit the pledge (the thank-you page shows it).

        ``profile.tokens`` are handed over by the caller, who must not keep them: every rule
        is checked and the link redeemed before they are stored, and if the pledge is refused
        or fails before they are stored they are revoked at the network (``discard``).
        ``variant``: the wording chosen on the pledge page; without one the pledge gets the
        next in turn for the supporter's language (``assign_variant``).
        An account another person linked is never taken over (``account.linked_by_other``).
        """
        try:
            admitted = await self._admit(ticket, profile, message, variant)
            await self.links.redeem(ticket)
            account, pledge = await self._store(ticket, profile, admitted)
        except Exception:
            await self.discard(ticket.supporter, profile)
            raise
        campaign = admitted.campaign
        log.info("pledge %s for campaign %s", pledge.id, campaign.ref)
        assert campaign.id is not None  # the consent toggle and the new count, in one read
        named, after = await self.repo.named_and_supporters(campaign.id, ticket.supporter.key)
        await self.notifier.send_to_user(
            ticket.supporter,
            OutgoingMessage.of(
                t(
                    "supporter.pledged",
                    title=campaign.title,
                    account=self.registry.display(account),
                    launch_at=campaign.launch_at,
                ),
                t(f"supporter.delivery_{pledge.delivery_mode or DeliveryMode.AUTO}"),
                t("supporter.recruit_link", url=self.recruit_url(campaign, ticket.supporter)),
                buttons=await self.recruit_buttons(campaign, ticket.supporter, named),
            ),
        )
        await self.after_count_change(campaign, admitted.before, after)
        return pledge, campaign

    async def _admit(
        self,
        ticket: PledgeTicket,
        profile: LinkedProfile,
        message: str | None,
        variant: int | None = None,
    ) -> _Admitted:
        """Every rule a pledge must pass, checked before anything is written."""
        # one read for it all (one trip): the campaign, the account, its pledge, theirs,
        # the count; then the rules, in the order they were always checked
        ref = normalise_ref(ticket.campaign_ref)
        read = await self.repo.admission_reads(
            ref, profile.network, profile.instance, profile.remote_id, ticket.supporter
        )
        if read.campaign is None:  # as CampaignService.get refuses it
            raise NotFound("campaign.not_found", ref=ref or "?")
        campaign = read.campaign
        self.ensure_open(campaign)
        assert campaign.id is not None
        if profile.network not in campaign.networks:
            raise DomainError("pledge.network_not_in_campaign", network=profile.network)
        texts = [wording.text for wording in campaign.wordings]
        if variant is not None and not 0 <= variant < len(texts):
            raise InvalidInput("variants.web_unknown")
        if message and message.strip() in texts:  # a wording as it stands: not own words
            variant = texts.index(message.strip()) if variant is None else variant
            message = None
        personal = None
        if message and message.strip() and message.strip() != campaign.message:
            personal = validate_personalised(
                campaign.message, message, self.registry.spec(profile.network)
            )
        account, earlier = read.account, None
        if account is not None:
            if not account.owner.same_person(ticket.supporter):
                raise DomainError(
                    "account.linked_by_other", account=self.registry.display(account)
                )
            earlier = read.earlier
            if earlier is not None and earlier.status is not PledgeStatus.WITHDRAWN:
                raise DomainError("pledge.already", title=campaign.title)
        return _Admitted(
            campaign,
            personal,
            earlier,
            read.supporters,
            _recruiter(ticket, read.mine),
            variant,
        )

    async def _store(
        self,
        ticket: PledgeTicket,
        profile: LinkedProfile,
        admitted: _Admitted,
    ) -> tuple[SocialAccount, Pledge]:
        """Save the account (storage refuses another owner's) and its pledge, new or renewed."""
        campaign, personal = admitted.campaign, admitted.personal
        assert campaign.id is not None
        now = self.clock.now()
        try:
            account = await self.repo.save_account(_account_of(profile, ticket.supporter, now))
        except LinkedByOther as taken:
            raise DomainError(
                "account.linked_by_other", account=self.registry.display(taken.account)
            ) from taken
        assert account.id is not None
        variant = await self._variant(campaign, ticket.supporter, admitted)
        if admitted.withdrawn is not None:
            renewed = change_status(admitted.withdrawn, PledgeStatus.PLEDGED, at=now)
            if ticket.source_chat:  # else the chat it first came from stays
                renewed = replace(
                    renewed,
                    source_chat=ticket.source_chat,
                    source_chat_title=ticket.source_chat_title,
                )
            pledge = await self.repo.update_pledge(
                replace(
                    renewed,
                    supporter=ticket.supporter,
                    message=personal,
                    recruited_by=admitted.recruited_by,
                    variant=variant,
                    recruit_code=self.recruits.code(campaign.ref, ticket.supporter),
                )
            )
        else:
            pledge = await self.repo.add_pledge(
                Pledge(
                    campaign_id=campaign.id,
                    supporter=ticket.supporter,
                    account_id=account.id,
                    network=profile.network,
                    created_at=now,
                    message=personal,
                    delivery_mode=self.registry.delivery_mode(profile.network),
                    recruited_by=admitted.recruited_by,
                    variant=variant,
                    source_chat=ticket.source_chat,
                    source_chat_title=ticket.source_chat_title,
                    recruit_code=self.recruits.code(campaign.ref, ticket.supporter),
                )
            )
        return account, pledge

    async def _variant(
        self, campaign: Campaign, supporter: UserRef, admitted: _Admitted
    ) -> int | None:
        """The wording the pledge posts: none with the supporter's own words, the one they
        chose, else the next in turn (``suggest_variant``)."""
        if admitted.personal is not None:
            return None
        if admitted.variant is not None:
            return admitted.variant
        return await self.suggest_variant(campaign, supporter)

    async def suggest_variant(self, campaign: Campaign, supporter: UserRef) -> int:
        """The wording next in turn for ``supporter``'s language: among those meant for it
        (else for anyone, else all), the one the fewest standing pledges post."""
        if not campaign.variants:
            return 0
        assert campaign.id is not None
        counts = await self.repo.variant_counts(campaign.id, [PledgeStatus.PLEDGED])
        return assign_variant(campaign.message, campaign.variants, supporter.language, counts)

    async def discard(self, owner: UserRef, profile: LinkedProfile) -> None:
        """Revoke tokens fetched for a pledge that was not recorded; best effort.

        A token equal to the one stored for that account is in use and stays (a network
        that hands the same token out again, or a race that stored it after all).
        """
        try:
            stored = await self.repo.find_account(
                profile.network, profile.instance, profile.remote_id
            )
        except Exception:  # cannot tell whether they were stored: revoking is the safe side
            log.warning("looking up a %s account failed", profile.network)
            stored = None
        if stored is not None and stored.tokens.access_token == profile.tokens.access_token:
            return
        try:  # queued, then revoked: a failure is retried later, never dropped
            await self.revocations.revoke_unstored(_account_of(profile, owner, self.clock.now()))
        except Exception:  # the refusal is what the supporter must see
            log.warning("queueing unused %s tokens for revocation failed", profile.network)

    async def after_count_change(
        self, campaign: Campaign, before: int, after: int | None = None
    ) -> None:
        """Refresh the cards and announce the highest milestone the new count crossed, once
        (``after``: the new count, read if not given).

        Counts are people. Every milestone crossed is claimed, so a lower one is never
        announced after a higher one (2 → 3 of 3 says the goal is reached, not "75%").
        """
        assert campaign.id is not None
        self.cards.request(campaign.id)
        if after is None:
            after = await self.repo.supporter_count(campaign.id)
        crossed = crossed_milestones(before, after, campaign.goal)
        now = self.clock.now()
        claimed = [
            await self.repo.claim_event(campaign.id, EventKind.MILESTONE, now, subject=m)
            for m in crossed
        ]
        if not crossed or not claimed[-1]:  # nothing crossed, or the highest was announced
            return
        await self.announcer.announce(
            campaign.id,
            OutgoingMessage.of(
                t(
                    f"announce.milestone_{crossed[-1]}",
                    title=campaign.title,
                    supporters=after,
                    goal=campaign.goal,
                    ref=campaign.ref,
                )
            ),
        )

    async def of_supporter(self, supporter: UserRef) -> list[tuple[Pledge, Campaign, str]]:
        """The supporter's pledges with their campaign and the account shown."""
        rows = []
        for pledge in await self.repo.pledges_of_supporter(supporter):
            campaign = await self.repo.get_campaign(pledge.campaign_id)
            account = await self.repo.get_account(pledge.account_id)
            if campaign is not None:
                shown = self.registry.display(account) if account else "?"
                rows.append((pledge, campaign, shown))
        return rows

    async def unpledge(self, ref: str, supporter: UserRef) -> int:
        """Withdraw the supporter's pledges to one campaign before launch; return how many."""
        campaign = await self.campaigns.get(ref)
        assert campaign.id is not None
        if not campaign.open_for_withdrawal(self.clock.now()):
            raise DomainError("unpledge.too_late", title=campaign.title)
        mine = [
            p
            for p in await self.repo.pledges_of_supporter(supporter)
            if p.campaign_id == campaign.id and p.status is PledgeStatus.PLEDGED
        ]
        if not mine:
            raise NotFound("unpledge.none", ref=normalise_ref(ref))
        before = await self.repo.supporter_count(campaign.id)
        await self.repo.unname_recruiter(campaign.id, supporter.key)
        for pledge in mine:
            await self.repo.update_pledge(
                change_status(pledge, PledgeStatus.WITHDRAWN, at=self.clock.now())
            )
        await self.repo.set_update_mute(  # a mute is a supporter's; they left
            campaign.id, supporter, muted=False, at=self.clock.now()
        )
        await self.after_count_change(campaign, before)
        await self.revocations.release_unused({p.account_id for p in mine})
        return len(mine)

    async def forget(self, supporter: UserRef) -> Forgotten:
        """Withdraw everything, revoke every account's tokens (queued for retry where the
        network cannot be reached), erase the accounts."""
        pledges = await self.repo.pledges_of_supporter(supporter)
        touched = {p.campaign_id for p in pledges if p.status is PledgeStatus.PLEDGED}
        accounts = await self.repo.accounts_of(supporter)
        unrevoked = await self.revocations.release_all(accounts)
        erased = await self.repo.erase_supporter(supporter)
        for campaign_id in touched:
            self.cards.request(campaign_id)
        return Forgotten(accounts=erased, pledges=len(pledges), unrevoked=tuple(unrevoked))


def _recruiter(ticket: PledgeTicket, mine: list[Pledge]) -> str | None:
    """First attribution wins: a person who pledged to the campaign before (``mine``, their
    pledges to it by id) keeps what their first pledge says; nobody recruits themselves."""
    if mine:
        return mine[0].recruited_by
    if ticket.recruited_by == ticket.supporter.key:
        return None
    return ticket.recruited_by


def _account_of(profile: LinkedProfile, owner: UserRef, linked_at: datetime) -> SocialAccount:
    """The account to store (or, refused, to revoke the tokens of) for ``owner``."""
    return SocialAccount(
        owner=owner,
        network=profile.network,
        instance=profile.instance,
        remote_id=profile.remote_id,
        handle=profile.handle,
        followers=profile.followers,
        tokens=profile.tokens,
        linked_at=linked_at,
    )
