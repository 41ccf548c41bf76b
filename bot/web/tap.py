"""The short tap link: ``GET /tap/{token}`` redirects to the network's compose screen.

Tap messages carry this link instead of the compose URL itself, which is too long for
chat buttons. ``TapService`` decides where it leads (or why it leads nowhere) and counts
the opening; this route only translates: a GET is a supporter's tap, a HEAD a link
preview, a refusal becomes a readable page with the status its kind means.
"""

from __future__ import annotations

from aiohttp import web
from jinja2 import Environment

from bot.services.taps import Refusal, TapRefused, TapService
from bot.settings import Settings
from bot.web.rendering import Page

REDIRECT_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
STATUS_BY_REFUSAL = {
    Refusal.INVALID: 400,
    Refusal.GONE: 410,
    Refusal.NOT_YET: 409,
    Refusal.UNAVAILABLE: 503,
}


class TapRedirects:
    """The ``/tap/{token}`` route of the pledge site."""

    def __init__(self, settings: Settings, taps: TapService, env: Environment) -> None:
        self.settings = settings
        self.taps = taps
        self.env = env

    def refusal(self, request: web.Request, refused: TapRefused) -> web.Response:
        """A readable page in the visitor's language (else the supporter's, else ours)."""
        settings = self.settings
        language = refused.language or settings.default_language
        page = Page(self.env, request, language, settings.timezone)
        return page.response(
            "tap.html",
            status=STATUS_BY_REFUSAL[refused.kind],
            message=page.text(refused.text),
        )

    async def open(self, request: web.Request) -> web.Response:
        # a HEAD (link preview) is not a supporter's tap
        opened = await self.taps.open(
            request.match_info["token"], count_opening=request.method == "GET"
        )
        if isinstance(opened, TapRefused):
            return self.refusal(request, opened)
        return web.Response(status=303, headers={"Location": opened, **REDIRECT_HEADERS})
