"""The pledge flow: from the pledge form, through the network's authorisation, to a pledge.

The pledge site's handlers read a request, call one of these with plain values and render
what comes back: ``form`` is what the pledge page shows, ``start`` checks the form and
says where to send the supporter to authorise Chorus (keeping the OAuth state until they
come back), ``finish`` takes the network's answer, links the account and records the
pledge. Every refusal is a value naming its reason (and, for the form, the field it is
about); which HTTP status and which page it becomes is the web layer's business.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.domain.campaign import Campaign, normalise_ref
from bot.domain.cards import CampaignStats
from bot.domain.errors import DomainError, InvalidInput, NotFound
from bot.domain.message_rules import validate_personalised
from bot.domain.networks import DeliveryMode, Network, NetworkSpec
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.ports import Clock, NetworkFailure, PublishesDocuments, Repository
from bot.registry import NetworkRegistry
from bot.services.campaigns import CampaignService
from bot.services.links import PledgeLinks, PledgeTicket
from bot.services.manage_links import ManageLinks
from bot.services.pledges import PledgeService
from bot.services.share_links import ShareLink, share_links
from bot.services.web_supporters import is_web, web_networks

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=15)  # how long an OAuth round trip may take


class Field(StrEnum):
    """The part of the pledge form a refusal is about."""

    MESSAGE = "message"
    VARIANT = "variant"
    INSTANCE = "instance"
    GENERAL = "general"


@dataclass(frozen=True)
class PledgeForm:
    """What the pledge page shows: whose link, which campaign, its figures, the networks
    a supporter can link here (in the registry's order)."""

    token: str
    ticket: PledgeTicket
    campaign: Campaign
    stats: CampaignStats
    networks: tuple[NetworkSpec, ...]
    suggested: int = 0  # the wording offered first: the next in turn for this supporter


@dataclass(frozen=True)
class FormRefused:
    """The form comes back filled in, with ``error`` shown next to ``field``."""

    form: PledgeForm
    field: Field
    error: DomainError


@dataclass(frozen=True)
class Refused:
    """The flow stopped here.

    ``token`` is the pledge link the refusal is about when the link itself is fine (the
    page may lead back to it); ``state_spent`` says the OAuth round trip is over (its
    browser cookie is of no use any more); ``tz`` is the time zone the supporter's form
    named, once known; ``page_ref`` is the campaign whose public page a web identity
    (who has no chat to go back to) pledged from, when the link says so.
    """

    error: DomainError
    token: str | None = None
    state_spent: bool = False
    tz: str = ""
    page_ref: str | None = None


@dataclass(frozen=True)
class Authorize:
    """Send the supporter to ``url``; ``state`` names the round trip (the browser keeps it)."""

    url: str
    state: str


@dataclass(frozen=True)
class Thanks:
    """A recorded pledge, as the thank-you page shows it."""

    campaign: Campaign
    account: str  # the linked account, as people name it
    mode: DeliveryMode
    message: str  # what will be posted
    tz: str
    recruit_url: str  # the supporter's own link to bring others
    manage_url: str | None = None  # a web supporter's private link to their pledge
    share: tuple[ShareLink, ...] = ()  # places to share ``recruit_url`` ("you too?")


class PledgeFlow:
    """The pledge web app's use cases: show the form, start and finish the OAuth dance."""

    def __init__(
        self,
        *,
        repo: Repository,
        clock: Clock,
        links: PledgeLinks,
        campaigns: CampaignService,
        pledges: PledgeService,
        registry: NetworkRegistry,
        public_url: str,
        manage: ManageLinks | None = None,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._links = links
        self._campaigns = campaigns
        self._pledges = pledges
        self._registry = registry  # the offered networks, their linkers and their specs
        self._public_url = public_url
        self._manage = manage  # the manage links of web supporters (no chat to go back to)

    def published(self, network: str, name: str) -> dict[str, Any] | None:
        """A document an offered network's linker publishes as ``name`` (an OAuth client's
        metadata, its public keys), or None."""
        linker = self._registry.linkers().get(Network(network))
        documents = linker.documents() if isinstance(linker, PublishesDocuments) else {}
        return documents.get(name)

    def redirect_uri(self, network: Network) -> str:
        return f"{self._public_url}/oauth/{network}/callback"

    def networks_for(
        self, campaign: Campaign, supporter: UserRef | None = None
    ) -> tuple[NetworkSpec, ...]:
        """The campaign's networks a supporter can link here, in the registry's order; for
        a web supporter only those delivered without a chat."""
        web_only = supporter is not None and is_web(supporter)
        allowed = web_networks(self._registry, campaign) if web_only else campaign.networks
        return tuple(
            entry.spec
            for entry in self._registry.entries()
            if entry.spec.id in allowed and entry.linker is not None
        )

    async def form(self, token: str) -> PledgeForm | Refused:
        """The pledge page of ``token``, or why the link cannot pledge."""
        try:
            ticket, campaign = await self._open(token)
        except DomainError as error:
            return Refused(error, page_ref=self._page_ref(token))
        return await self._form(token, ticket, campaign)

    async def start(
        self,
        token: str,
        network: str,
        *,
        message: str,
        instance: str,
        tz: str,
        form_ok: bool,
        variant: str = "",
    ) -> Authorize | FormRefused | Refused:
        """Check the pledge form sent for ``network`` and begin the authorisation there.

        ``form_ok``: the browser's form checks (origin, nonce) passed; ``tz`` is the time
        zone the page was shown in, kept for the thank-you page; ``variant`` the wording
        chosen, as the form sent it (empty: the next in turn, given when the pledge is
        recorded).
        """
        try:
            ticket, campaign = await self._open(token)
        except DomainError as error:
            return Refused(error, page_ref=self._page_ref(token))
        web_page = campaign.ref if is_web(ticket.supporter) else None
        if not form_ok:
            return Refused(DomainError("web.error.form_expired"), token, page_ref=web_page)
        offered = self.networks_for(campaign, ticket.supporter)
        spec = next((s for s in offered if s.id == network), None)
        if spec is None:
            return Refused(
                DomainError("web.error.network_unavailable", network=network[:20]),
                token,
                page_ref=web_page,
            )
        chosen = spec.id
        message = message.strip()
        try:
            wording = chosen_variant(campaign, variant)
        except InvalidInput as error:
            return FormRefused(await self._form(token, ticket, campaign), Field.VARIANT, error)
        try:
            if message and message != campaign.message:
                validate_personalised(campaign.message, message, spec)
        except InvalidInput as error:
            return FormRefused(await self._form(token, ticket, campaign), Field.MESSAGE, error)
        state = secrets.token_urlsafe(32)
        instance = instance.strip()
        try:
            if spec.typed_instance and not instance:  # each such network words it itself
                raise InvalidInput(f"web.{chosen}.instance_missing")
            url, linker_data = await self._registry.linkers()[chosen].authorization_url(
                state=state, redirect_uri=self.redirect_uri(chosen), instance=instance or None
            )
        except NetworkFailure:
            return Refused(_network_down(chosen), token, page_ref=web_page)
        except DomainError as error:
            # a linker says what is wrong with the typed instance under its own key space
            about_instance = spec.typed_instance and error.key.startswith(f"web.{chosen}.")
            field = Field.INSTANCE if about_instance else Field.GENERAL
            return FormRefused(await self._form(token, ticket, campaign), field, error)
        await self._repo.save_oauth_state(
            state,
            {
                "token": token,
                "network": str(chosen),
                "message": message if message != campaign.message else "",
                "variant": wording,
                "instance": instance,
                "tz": tz,
                "linker": linker_data,
            },
            self._clock.now() + STATE_TTL,
        )
        log.info("pledge OAuth started for campaign %s on %s", campaign.ref, chosen)
        return Authorize(url, state)

    async def finish(
        self,
        network: str,
        state: str,
        *,
        browser_ok: bool,
        code: str,
        denied: bool,
        issuer: str = "",
    ) -> Thanks | Refused:
        """Take the network's answer to the round trip ``state`` and record the pledge.

        ``browser_ok``: the browser's state cookie names ``state``; ``denied``: the network
        says the supporter refused; ``issuer``: the ``iss`` the authorization server put in
        its answer (RFC 9207), handed to the linker as ``callback_issuer`` in its data so it
        can check it. The tokens fetched are the pledge service's from then on: it stores
        them with the pledge or revokes them.
        """
        chosen = Network(network)
        if chosen not in self._registry:
            return Refused(DomainError("web.error.not_found"))
        linker = self._registry.linkers().get(chosen)
        if linker is None or not state:
            return Refused(DomainError("web.error.state_unknown"))
        if not browser_ok:
            return Refused(DomainError("web.error.session_mismatch"))
        data = await self._repo.take_oauth_state(state, self._clock.now())
        if data is None or data.get("network") != chosen:
            return Refused(DomainError("web.error.state_unknown"))
        token = str(data["token"])
        tz = str(data.get("tz") or "")

        def spent(error: DomainError) -> Refused:
            return Refused(error, token, state_spent=True, tz=tz, page_ref=self._page_ref(token))

        if denied:
            return spent(DomainError("web.error.denied"))
        if not code:
            return spent(DomainError("web.error.missing_code"))
        try:
            ticket = self._links.read(token)
            # from here the fetched tokens are record's: it stores them or revokes them
            kept = data["linker"]
            if issuer and isinstance(kept, dict):
                kept = {**kept, "callback_issuer": issuer}
            profile = await linker.complete(
                code=code, redirect_uri=self.redirect_uri(chosen), data=kept
            )
            if is_web(ticket.supporter):  # a web identity is named after its account
                named = replace(ticket.supporter, name=self._registry.display(profile)[:64])
                ticket = replace(ticket, supporter=named)
            variant = data.get("variant")
            pledge, campaign = await self._pledges.record_with_campaign(
                ticket,
                profile,
                str(data.get("message") or "") or None,
                variant if isinstance(variant, int) else None,
            )
        except NetworkFailure:
            return spent(_network_down(chosen))
        except DomainError as error:
            return spent(error)
        recruit_url = self._pledges.recruit_url(campaign, ticket.supporter)
        return Thanks(
            campaign=campaign,
            account=self._registry.display(profile),
            mode=pledge.delivery_mode or DeliveryMode.AUTO,
            message=pledge.text(campaign),
            tz=tz,
            recruit_url=recruit_url,
            manage_url=self._manage_url(campaign, ticket.supporter),
            share=share_links(self._registry, campaign.title, recruit_url),
        )

    def _page_ref(self, token: str) -> str | None:
        """The campaign of a link made for a web identity (its way back is the public page,
        not a chat), even an expired one; None for a chat's link or a forged one."""
        ticket = self._links.signed(token)
        if ticket is None or not is_web(ticket.supporter):
            return None
        return ticket.campaign_ref

    def _manage_url(self, campaign: Campaign, supporter: UserRef) -> str | None:
        if self._manage is None or not is_web(supporter):
            return None
        return self._manage.url(campaign, supporter)

    async def _open(self, token: str) -> tuple[PledgeTicket, Campaign]:
        """The link's ticket and its campaign, open for pledges; ``DomainError`` if not."""
        ticket, campaign = await self._links.open_with_campaign(token)
        if campaign is None:  # as CampaignService.get refuses it
            raise NotFound("campaign.not_found", ref=normalise_ref(ticket.campaign_ref) or "?")
        self._pledges.ensure_open(campaign)
        return ticket, campaign

    async def _form(self, token: str, ticket: PledgeTicket, campaign: Campaign) -> PledgeForm:
        assert campaign.id is not None
        stats = await self._repo.campaign_stats(campaign.id)
        networks = self.networks_for(campaign, ticket.supporter)
        suggested = await self._pledges.suggest_variant(campaign, ticket.supporter)
        return PledgeForm(token, ticket, campaign, stats, networks, suggested)


def chosen_variant(campaign: Campaign, typed: str) -> int | None:
    """The wording index a pledge form sent: None when none was chosen; ``InvalidInput``
    (``variants.web_unknown``) for anything but the index of one of the campaign's."""
    typed = typed.strip()
    if not typed:
        return None
    if not typed.isascii() or not typed.isdigit() or len(typed) > 2:
        raise InvalidInput("variants.web_unknown")
    index = int(typed)
    if index >= len(campaign.wordings):
        raise InvalidInput("variants.web_unknown")
    return index


def _network_down(network: Network) -> DomainError:
    return DomainError("web.error.network_down", network=t(f"network.{network}"))
