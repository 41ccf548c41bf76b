"""Pledging from the public page, without any chat, and managing that pledge afterwards.

A visitor of ``/c/{REF}`` gets a fresh web identity (``UserRef("web", <random id>)``) and
a pledge link for it, then goes through the ordinary pledge flow. Only networks delivered
``auto`` qualify: a ``tap`` network hands its one-tap post over in a chat at launch, so it
still needs one. The thank-you page then gives a signed manage link (``ManageLinks``) with
which the web supporter sees, withdraws or erases their pledge; these use cases live here
and the web handlers only translate them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import Pledge
from bot.domain.refs import WEB_PLATFORM, UserRef
from bot.registry import NetworkRegistry
from bot.services.links import PledgeLinks
from bot.services.manage_links import ManageLinks, ManageTicket
from bot.services.pledges import Forgotten, PledgeService
from bot.services.recruiter_names import RecruiterConsent
from bot.services.recruits import RecruitCodes

log = logging.getLogger(__name__)

WEB = WEB_PLATFORM  # the platform of supporters who pledged from the page, without a chat
DEFAULT_NAME = "web supporter"


def is_web(supporter: UserRef) -> bool:
    return supporter.platform == WEB


def new_web_supporter(language: str) -> UserRef:
    return UserRef(WEB, secrets.token_urlsafe(12), DEFAULT_NAME, language)


def web_networks(registry: NetworkRegistry, campaign: Campaign) -> tuple[Network, ...]:
    """The campaign's networks a visitor can pledge on from the page: delivered ``auto``
    and linkable here, in the registry's order."""
    return tuple(
        entry.spec.id
        for entry in registry.entries()
        if entry.spec.id in campaign.networks
        and entry.linker is not None
        and entry.mode is DeliveryMode.AUTO
    )


def chat_networks(registry: NetworkRegistry, campaign: Campaign) -> tuple[Network, ...]:
    """The campaign's networks that still need a chat (their post is handed over there)."""
    web = web_networks(registry, campaign)
    return tuple(n for n in campaign.networks if n not in web)


@dataclass(frozen=True)
class ManagedPledge:
    pledge: Pledge
    account: str  # the linked account, as people name it


@dataclass(frozen=True)
class ManageView:
    """What the manage page shows: the campaign, this identity's pledges to it."""

    token: str
    campaign: Campaign
    pledges: tuple[ManagedPledge, ...]
    open: bool  # pledges can still be withdrawn
    recruiter_name: str | None = None  # the name shown among the top recruiters, if chosen
    recruit_url: str = ""  # this identity's own link to bring others


class WebSupporters:
    def __init__(
        self,
        *,
        links: PledgeLinks,
        manage: ManageLinks,
        pledges: PledgeService,
        registry: NetworkRegistry,
        recruits: RecruitCodes,
        recruiters: RecruiterConsent,
    ) -> None:
        self._links = links
        self._manage = manage
        self._pledges = pledges
        self._registry = registry
        self._recruits = recruits
        self._recruiters = recruiters

    async def start(self, ref: str, network: str, language: str, via: str | None) -> str:
        """A pledge link for a new web identity on ``ref``; ``DomainError`` when the
        campaign takes no pledges or ``network`` cannot be pledged without a chat."""
        campaign = await self._pledges.open_campaign(ref)
        if network not in web_networks(self._registry, campaign):
            raise DomainError("web.error.network_unavailable", network=network[:20])
        recruiter = await self._recruits.recruiter(campaign, via)
        supporter = new_web_supporter(language)
        log.info("web pledge started for campaign %s on %s", campaign.ref, network)
        return self._links.issue(
            campaign.ref, supporter, recruiter.key if recruiter is not None else None
        )

    def read(self, token: str) -> ManageTicket:
        return self._manage.read(token, WEB)

    async def view(self, token: str) -> ManageView:
        """The manage page of ``token``; ``web.manage.invalid``/``expired`` if forged."""
        ticket = self.read(token)
        rows = await self._pledges.of_supporter(ticket.supporter)
        mine = tuple(
            ManagedPledge(pledge, account)
            for pledge, campaign, account in rows
            if campaign.ref == ticket.campaign_ref
        )
        campaign = await self._pledges.campaigns.get(ticket.campaign_ref)
        now = self._pledges.clock.now()
        assert campaign.id is not None
        return ManageView(
            token,
            campaign,
            mine,
            campaign.open_for_pledges(now),
            recruiter_name=await self._recruiters.name_of(campaign.id, ticket.supporter),
            recruit_url=self._pledges.recruit_url(campaign, ticket.supporter),
        )

    async def name_recruiter(self, token: str, name: str | None, *, form_ok: bool) -> None:
        """Show this identity among the top recruiters as ``name``; blank: anonymous."""
        ticket = self.read(token)
        if not form_ok:
            raise DomainError("web.error.form_expired")
        await self._recruiters.choose(ticket.campaign_ref, ticket.supporter, name)

    async def pledge_again(self, token: str, *, form_ok: bool) -> str:
        """A fresh pledge link for the same web identity (its account stays linked to it
        after a withdrawal, so only this identity can pledge it again)."""
        ticket = self.read(token)
        if not form_ok:
            raise DomainError("web.error.form_expired")
        campaign = await self._pledges.open_campaign(ticket.campaign_ref)
        return self._links.issue(campaign.ref, ticket.supporter)

    async def withdraw(self, token: str, *, form_ok: bool) -> int:
        """Withdraw the identity's pledges to the campaign (``unpledge``'s rules)."""
        ticket = self.read(token)
        if not form_ok:
            raise DomainError("web.error.form_expired")
        return await self._pledges.unpledge(ticket.campaign_ref, ticket.supporter)

    async def erase(self, token: str, *, form_ok: bool) -> Forgotten:
        """Erase the identity (``/forget``: revoke the tokens, delete accounts and pledges)."""
        ticket = self.read(token)
        if not form_ok:
            raise DomainError("web.error.form_expired")
        return await self._pledges.forget(ticket.supporter)
