"""The routes of web supporters: pledge from the public page, then manage that pledge.

``POST /c/{ref}/pledge/{network}`` gives the visitor a new web identity's pledge link and
sends them to the ordinary pledge page; ``/manage/{token}`` shows, withdraws or erases
what that identity pledged. The handlers read the request, call ``WebSupporters`` and
render what it returns; a refusal is a page in the reader's language with its status.
"""

from __future__ import annotations

from aiohttp import web
from jinja2 import Environment

from bot.domain.errors import DomainError
from bot.services.web_supporters import WebSupporters
from bot.settings import Settings
from bot.web import security
from bot.web.errors import status_of
from bot.web.public import UTC
from bot.web.rendering import Page

MANAGE_PATH = "/manage/"


class WebSupporterRoutes:
    def __init__(self, settings: Settings, supporters: WebSupporters, env: Environment) -> None:
        self.settings = settings
        self.supporters = supporters
        self.env = env
        self.secure_cookies = settings.public_url.startswith("https://")

    def page(self, request: web.Request) -> Page:
        return Page(self.env, request, self.settings.default_language, UTC)

    def refused(self, page: Page, error: DomainError, back: str | None = None) -> web.Response:
        return page.response(
            "public_error.html",
            status=status_of(error),
            message=page.text(error.text),
            back_url=back,
        )

    async def pledge_here(self, request: web.Request) -> web.Response:
        """The public page's "Pledge here": off to the pledge page of a new web identity."""
        page = self.page(request)
        ref = request.match_info["ref"]
        form = await request.post()
        via = str(form.get("via", ""))[:32] or None
        try:
            if not security.origin_ok(request, self.settings.public_url):
                raise DomainError("web.error.form_expired")
            token = await self.supporters.start(
                ref, request.match_info["network"], page.language, via
            )
        except DomainError as error:
            return self.refused(page, error, back=f"/c/{ref}")
        return web.Response(status=303, headers={"Location": f"/pledge/{token}"})

    async def manage(self, request: web.Request) -> web.Response:
        page = self.page(request)
        token = request.match_info["token"]
        try:
            view = await self.supporters.view(token)
        except DomainError as error:
            return self.refused(page, error)
        nonce = security.form_nonce(request)
        response = page.response(
            "manage.html",
            view=view,
            campaign=view.campaign,
            nonce=nonce,
            done=request.query.get("done", "")[:16],
            launch_iso=view.campaign.launch_at.isoformat(),
        )
        security.set_form_cookie(response, nonce, secure=self.secure_cookies, path=MANAGE_PATH)
        return response

    async def withdraw(self, request: web.Request) -> web.Response:
        return await self._act(request, "withdrawn")

    async def erase(self, request: web.Request) -> web.Response:
        return await self._act(request, "erased")

    async def pledge_again(self, request: web.Request) -> web.Response:
        return await self._act(request, "again")

    async def recruiter_name(self, request: web.Request) -> web.Response:
        return await self._act(request, "named")

    async def _act(self, request: web.Request, action: str) -> web.Response:
        """One of the manage page's buttons, behind the form checks the pledge form uses."""
        page = self.page(request)
        token = request.match_info["token"]
        form = await request.post()
        form_ok = security.origin_ok(request, self.settings.public_url) and security.form_nonce_ok(
            request, str(form.get("nonce", ""))
        )
        location = f"{MANAGE_PATH}{token}?done={action}"
        try:
            if action == "withdrawn":
                await self.supporters.withdraw(token, form_ok=form_ok)
            elif action == "erased":
                await self.supporters.erase(token, form_ok=form_ok)
            elif action == "named":
                name = str(form.get("name", "")) if form.get("shown") == "named" else None
                await self.supporters.name_recruiter(token, name, form_ok=form_ok)
            else:
                location = f"/pledge/{await self.supporters.pledge_again(token, form_ok=form_ok)}"
        except DomainError as error:
            back = None if error.key.startswith("web.manage.") else f"{MANAGE_PATH}{token}"
            return self.refused(page, error, back=back)
        return web.Response(status=303, headers={"Location": location})
