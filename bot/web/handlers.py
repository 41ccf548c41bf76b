"""The pledge site's routes: show the campaign, start the OAuth dance, finish it.

Handlers only translate between HTTP and the core: they read the request, call one
method of the ``PledgeFlow`` service with plain values, and render what it returns (a page, a
redirect, or a refusal as a page with its status).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jinja2 import Environment

from bot.domain.text import Text, t
from bot.i18n import FALLBACK, catalogue
from bot.services.pledge_flow import (
    Authorize,
    FormRefused,
    PledgeFlow,
    PledgeForm,
    Refused,
    Thanks,
)
from bot.services.web_supporters import is_web
from bot.settings import Settings
from bot.web import security
from bot.web.errors import DEAD_ENDS, status_of, web_wording
from bot.web.recruit_qr import qr_url
from bot.web.rendering import Page, zone_or

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000
MAX_INSTANCE = 300


@dataclass
class FormInput:
    """What the supporter typed, kept so a refused form comes back filled in."""

    message: str = ""
    instance: str = ""
    tz: str = ""
    variant: str = ""  # the wording chosen (its index), as the form sent it
    network: str = ""  # whose button was pressed: its field gets the value and the error


@dataclass
class FormErrors:
    """Messages shown next to the fields they are about."""

    message: str = ""
    instance: str = ""
    general: str = ""
    variant: str = ""

    def __bool__(self) -> bool:
        return bool(self.message or self.instance or self.general or self.variant)


def platform_name(page: Page, platform: str) -> str:
    """A chat platform's display name in the reader's language, else its id as is."""
    key = f"platform.{platform}"
    return page.text(t(key)) if key in catalogue(FALLBACK) else platform


class PledgeSite:
    def __init__(self, settings: Settings, flow: PledgeFlow, env: Environment) -> None:
        self.settings = settings
        self.flow = flow
        self.env = env
        self.secure_cookies = settings.public_url.startswith("https://")

    # ---- helpers ---------------------------------------------------------------------

    def page(self, request: web.Request, tz_name: str | None = None) -> Page:
        settings = self.settings
        return Page(
            self.env, request, settings.default_language, zone_or(tz_name, settings.timezone)
        )

    def error_page(
        self,
        page: Page,
        text: Text,
        status: int,
        *,
        token: str | None = None,
        page_ref: str | None = None,
    ) -> web.Response:
        return page.response(
            "error.html",
            status=status,
            message=page.text(text),
            back_url=f"/pledge/{token}" if token else None,
            page_url=f"/c/{page_ref}" if page_ref else None,
        )

    def refused_page(self, page: Page, refused: Refused) -> web.Response:
        """The refusal's page; back to the pledge page when that page can still help, else
        to the chat, or to the campaign's public page for a web identity (no chat)."""
        error = refused.error
        back = None if error.key in DEAD_ENDS else refused.token
        text = web_wording(error) if refused.page_ref else error.text
        return self.error_page(page, text, status_of(error), token=back, page_ref=refused.page_ref)

    def campaign_page(
        self,
        request: web.Request,
        page: Page,
        form: PledgeForm,
        *,
        kept: FormInput | None = None,
        errors: FormErrors | None = None,
        status: int = 200,
    ) -> web.Response:
        nonce = security.form_nonce(request)
        campaign = form.campaign
        supporter = form.ticket.supporter
        # with several wordings the supporter picks one; the text box is for own words
        kept = kept or FormInput(
            message="" if campaign.variants else campaign.message, variant=str(form.suggested)
        )
        response = page.response(
            "pledge.html",
            status=status,
            token=form.token,
            campaign=campaign,
            owner_name=supporter.name or supporter.id,
            owner_platform=platform_name(page, supporter.platform),
            web_owner=is_web(supporter),  # pledged from the page: no chat to send them to
            stats=form.stats,
            networks=[str(spec.id) for spec in form.networks],
            nonce=nonce,
            kept=kept,
            errors=errors or FormErrors(),
            launch_iso=campaign.launch_at.isoformat(),
            limits={str(spec.id): spec.length.limit for spec in form.networks},
            counting={str(spec.id): spec.length for spec in form.networks},
            typed_instance={
                str(spec.id): spec.instance_prompt for spec in form.networks if spec.typed_instance
            },
            suggested=form.suggested,
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
        page = self.page(request, request.query.get("tz"))
        form = await self.flow.form(request.match_info["token"])
        if isinstance(form, Refused):
            return self.refused_page(page, form)
        return self.campaign_page(request, page, form)

    async def pledge_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        network = request.match_info["network"]
        # each network that asks for an instance (or a handle) has its own field
        typed = form.get(f"instance-{network}", form.get("instance", ""))
        kept = FormInput(
            message=str(form.get("message", ""))[:MAX_MESSAGE],
            instance=str(typed)[:MAX_INSTANCE],
            tz=str(form.get("tz", ""))[:64],
            variant=str(form.get("variant", ""))[:8],
            network=network[:40],
        )
        page = self.page(request, kept.tz)
        started = await self.flow.start(
            request.match_info["token"],
            request.match_info["network"],
            message=kept.message,
            instance=kept.instance,
            tz=page.tz.key,
            variant=kept.variant,
            form_ok=security.origin_ok(request, self.settings.public_url)
            and security.form_nonce_ok(request, str(form.get("nonce", ""))),
        )
        if isinstance(started, Refused):
            return self.refused_page(page, started)
        if isinstance(started, FormRefused):
            shown = page.text(started.error.text)
            return self.campaign_page(
                request,
                page,
                started.form,
                kept=kept,
                errors=FormErrors(**{started.field.value: shown}),
                status=status_of(started.error),
            )
        return self.authorize(started)

    def authorize(self, started: Authorize) -> web.Response:
        response = web.Response(status=303, headers={"Location": started.url})
        security.set_state_cookie(response, started.state, secure=self.secure_cookies)
        return response

    async def document(self, request: web.Request) -> web.Response:
        """A document a network's linker publishes (OAuth client metadata, public keys)."""
        found = self.flow.published(request.match_info["network"], request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.json_response(found, headers={"Cache-Control": "public, max-age=300"})

    async def callback(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        finished = await self.flow.finish(
            request.match_info["network"],
            state,
            browser_ok=security.state_cookie_ok(request, state),
            code=request.query.get("code", ""),
            denied=bool(request.query.get("error")),
            issuer=request.query.get("iss", ""),
        )
        page = self.page(request, finished.tz)
        if isinstance(finished, Thanks):
            return self._cleared(self.thanks(page, finished))
        response = self.refused_page(page, finished)
        return self._cleared(response) if finished.state_spent else response

    def thanks(self, page: Page, thanks: Thanks) -> web.Response:
        return page.response(
            "thanks.html",
            campaign=thanks.campaign,
            account=thanks.account,
            mode=str(thanks.mode),
            message=thanks.message,
            recruit_url=thanks.recruit_url,
            manage_url=thanks.manage_url,
            share=thanks.share,
            qr_url=qr_url(thanks.recruit_url),
            launch_iso=thanks.campaign.launch_at.isoformat(),
        )

    @staticmethod
    def _cleared(response: web.Response) -> web.Response:
        security.clear_state_cookie(response)
        return response
