"""The pledge site's routes: show the campaign, start the OAuth dance, finish it.

Handlers only translate between HTTP and the core: the link is read by
``core.links``, the campaign checked by ``core.pledges``, the account linked by an
``AccountLinker`` and the pledge recorded by ``core.pledges.record``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from jinja2 import Environment

from bot.app import Core
from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.message_rules import validate_personalised
from bot.domain.networks import DeliveryMode, Network
from bot.domain.text import Text, t
from bot.i18n import FALLBACK, catalogue
from bot.ports import AccountLinker, NetworkFailure
from bot.services.links import PledgeTicket
from bot.services.pledges import LinkedProfileData
from bot.web import security
from bot.web.errors import DEAD_ENDS, status_of
from bot.web.rendering import Page, zone_or

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000
MAX_INSTANCE = 300
NETWORK_ORDER = (Network("mastodon"), Network("x"), Network("sandbox"))


@dataclass
class FormInput:
    """What the supporter typed, kept so a refused form comes back filled in."""

    message: str = ""
    instance: str = ""
    tz: str = ""


@dataclass
class FormErrors:
    """Messages shown next to the fields they are about."""

    message: str = ""
    instance: str = ""
    general: str = ""

    def __bool__(self) -> bool:
        return bool(self.message or self.instance or self.general)


def platform_name(page: Page, platform: str) -> str:
    """A chat platform's display name in the reader's language, else its id as is."""
    key = f"platform.{platform}"
    return page.text(t(key)) if key in catalogue(FALLBACK) else platform


class PledgeSite:
    def __init__(
        self, core: Core, linkers: dict[Network, AccountLinker], env: Environment
    ) -> None:
        self.core = core
        self.linkers = linkers
        self.env = env
        self.secure_cookies = core.settings.public_url.startswith("https://")

    # ---- helpers ---------------------------------------------------------------------

    def page(self, request: web.Request, tz_name: str | None = None) -> Page:
        settings = self.core.settings
        return Page(
            self.env, request, settings.default_language, zone_or(tz_name, settings.timezone)
        )

    def redirect_uri(self, network: Network) -> str:
        return f"{self.core.settings.public_url}/oauth/{network}/callback"

    def networks_for(self, campaign: Campaign) -> list[Network]:
        """The campaign's networks a supporter can link here, in a stable order."""
        return [
            n
            for n in NETWORK_ORDER
            if n in campaign.networks and n in self.linkers and n in self.core.networks
        ]

    def error_page(
        self,
        page: Page,
        text: Text,
        status: int,
        *,
        token: str | None = None,
    ) -> web.Response:
        return page.response(
            "error.html",
            status=status,
            message=page.text(text),
            back_url=f"/pledge/{token}" if token else None,
        )

    def domain_error_page(
        self, page: Page, error: DomainError, token: str | None = None
    ) -> web.Response:
        back = None if error.key in DEAD_ENDS else token
        return self.error_page(page, error.text, status_of(error), token=back)

    async def campaign_page(
        self,
        request: web.Request,
        page: Page,
        token: str,
        ticket: PledgeTicket,
        campaign: Campaign,
        *,
        kept: FormInput | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> web.Response:
        assert campaign.id is not None
        stats = await self.core.repo.campaign_stats(campaign.id)
        nonce = security.form_nonce(request)
        networks = self.networks_for(campaign)
        kept = kept or FormInput(message=campaign.message)
        response = page.response(
            "pledge.html",
            status=status,
            token=token,
            campaign=campaign,
            owner_name=ticket.supporter.name or ticket.supporter.id,
            owner_platform=platform_name(page, ticket.supporter.platform),
            stats=stats,
            networks=[str(n) for n in networks],
            nonce=nonce,
            kept=kept,
            errors=errors or FormErrors(),
            launch_iso=campaign.launch_at.isoformat(),
            limits={"x": 280, "mastodon": 500, "sandbox": 500},
        )
        security.set_form_cookie(response, nonce, secure=self.secure_cookies)
        return response

    # ---- routes ----------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    @web.middleware
    async def error_pages(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Unknown addresses and unexpected failures still get a readable page."""
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except web.HTTPNotFound:
            return self.error_page(self.page(request), t("web.error.not_found"), 404)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("pledge site failed on %s %s", request.method, request.path)
            return self.error_page(self.page(request), t("error.internal"), 500)

    async def pledge_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        page = self.page(request, request.query.get("tz"))
        try:
            ticket = await self.core.links.open(token)
            campaign = await self.core.pledges.open_campaign(ticket.campaign_ref)
        except DomainError as error:
            return self.domain_error_page(page, error)
        return await self.campaign_page(request, page, token, ticket, campaign)

    async def pledge_post(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        form = await request.post()
        kept = FormInput(
            message=str(form.get("message", ""))[:MAX_MESSAGE],
            instance=str(form.get("instance", ""))[:MAX_INSTANCE],
            tz=str(form.get("tz", ""))[:64],
        )
        page = self.page(request, kept.tz)
        try:
            ticket = await self.core.links.open(token)
            campaign = await self.core.pledges.open_campaign(ticket.campaign_ref)
        except DomainError as error:
            return self.domain_error_page(page, error)
        if not security.origin_ok(
            request, self.core.settings.public_url
        ) or not security.form_nonce_ok(request, str(form.get("nonce", ""))):
            return self.error_page(page, t("web.error.form_expired"), 403, token=token)
        network = Network(request.match_info["network"])
        if network not in self.networks_for(campaign):
            name = request.match_info["network"][:20]
            return self.error_page(
                page, t("web.error.network_unavailable", network=name), 404, token=token
            )
        linker = self.linkers[network]
        message = kept.message.strip()
        try:
            if message and message != campaign.message:
                validate_personalised(campaign.message, message, self.core.registry.spec(network))
        except InvalidInput as error:
            return await self.campaign_page(
                request,
                page,
                token,
                ticket,
                campaign,
                kept=kept,
                errors=FormErrors(message=page.text(error.text)),
                status=400,
            )
        state = secrets.token_urlsafe(32)
        try:
            if network == Network("mastodon") and not kept.instance.strip():
                raise InvalidInput("web.mastodon.instance_missing")
            url, linker_data = await linker.authorization_url(
                state=state,
                redirect_uri=self.redirect_uri(network),
                instance=kept.instance.strip() or None,
            )
        except NetworkFailure:
            return self.error_page(
                page,
                t("web.error.network_down", network=t(f"network.{network}")),
                502,
                token=token,
            )
        except DomainError as error:
            shown = page.text(error.text)
            on_instance = error.key.startswith("web.mastodon.")
            return await self.campaign_page(
                request,
                page,
                token,
                ticket,
                campaign,
                kept=kept,
                errors=FormErrors(instance=shown) if on_instance else FormErrors(general=shown),
                status=status_of(error),
            )
        now = self.core.clock.now()
        await self.core.repo.save_oauth_state(
            state,
            {
                "token": token,
                "network": network,
                "message": message if message != campaign.message else "",
                "instance": kept.instance.strip(),
                "tz": page.tz.key,
                "linker": linker_data,
            },
            now + timedelta(seconds=security.STATE_TTL_SECONDS),
        )
        log.info("pledge OAuth started for campaign %s on %s", campaign.ref, network)
        response = web.Response(status=303, headers={"Location": url})
        security.set_state_cookie(response, state, secure=self.secure_cookies)
        return response

    async def callback(self, request: web.Request) -> web.Response:
        page = self.page(request)
        state = request.query.get("state", "")
        network = Network(request.match_info["network"])
        if network not in self.core.registry:
            return self.error_page(page, t("web.error.not_found"), 404)
        linker = self.linkers.get(network)
        if linker is None or not state:
            return self.error_page(page, t("web.error.state_unknown"), 400)
        if not security.state_cookie_ok(request, state):
            return self.error_page(page, t("web.error.session_mismatch"), 403)
        data = await self.core.repo.take_oauth_state(state, self.core.clock.now())
        if data is None or data.get("network") != network:
            return self.error_page(page, t("web.error.state_unknown"), 400)
        token = str(data["token"])
        page = self.page(request, str(data.get("tz") or ""))
        if request.query.get("error"):
            return self._cleared(self.error_page(page, t("web.error.denied"), 403, token=token))
        code = request.query.get("code", "")
        if not code:
            return self._cleared(
                self.error_page(page, t("web.error.missing_code"), 400, token=token)
            )
        try:
            ticket = self.core.links.read(token)
            # from here the fetched tokens are record's: it stores them or revokes them
            profile = await linker.complete(
                code=code, redirect_uri=self.redirect_uri(network), data=data["linker"]
            )
            pledge = await self.core.pledges.record(
                ticket,
                LinkedProfileData(
                    network=network,
                    instance=profile.instance,
                    remote_id=profile.remote_id,
                    handle=profile.handle,
                    followers=profile.followers,
                    tokens=profile.tokens,
                ),
                str(data.get("message") or "") or None,
            )
            campaign = await self.core.campaigns.get(ticket.campaign_ref)
        except NetworkFailure:
            return self._cleared(
                self.error_page(
                    page,
                    t("web.error.network_down", network=t(f"network.{network}")),
                    502,
                    token=token,
                )
            )
        except DomainError as error:
            return self._cleared(self.domain_error_page(page, error, token))
        return self._cleared(self.thanks(page, ticket, campaign, profile, pledge))

    def thanks(
        self, page: Page, ticket: PledgeTicket, campaign: Campaign, profile: Any, pledge: Any
    ) -> web.Response:
        display = (
            f"@{profile.handle}@{profile.instance}"
            if pledge.network == Network("mastodon")
            else f"@{profile.handle}"
        )
        mode = pledge.delivery_mode or DeliveryMode.AUTO
        return page.response(
            "thanks.html",
            campaign=campaign,
            account=display,
            mode=str(mode),
            message=pledge.message or campaign.message,
            launch_iso=campaign.launch_at.isoformat(),
        )

    @staticmethod
    def _cleared(response: web.Response) -> web.Response:
        security.clear_state_cookie(response)
        return response
