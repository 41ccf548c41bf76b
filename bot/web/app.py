"""The aiohttp application of the pledge web page.

``create_web_app`` is what the runtime serves on WEB_HOST:WEB_PORT and what the tests
drive over real HTTP: routes, static files, security headers and error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web

from bot.app import Core
from bot.domain.networks import Network
from bot.ports import AccountLinker
from bot.web.handlers import PledgeSite
from bot.web.rendering import STATIC, make_environment
from bot.web.security import add_security_headers
from bot.web.tap import TapRedirects

log = logging.getLogger(__name__)

SITE_KEY = web.AppKey("chorus_site", PledgeSite)


def create_web_app(core: Core, linkers: Mapping[Network, AccountLinker]) -> web.Application:
    """The pledge site for ``core``, linking accounts through ``linkers``."""
    site = PledgeSite(core, dict(linkers), make_environment())
    app = web.Application(middlewares=[site.error_pages], client_max_size=64 * 1024)
    app[SITE_KEY] = site
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/healthz", site.healthz)
    app.router.add_get("/pledge/{token}", site.pledge_page)
    app.router.add_post("/pledge/{token}/{network}", site.pledge_post)
    app.router.add_get("/oauth/{network}/callback", site.callback)
    app.router.add_get("/tap/{token}", TapRedirects(core, site.env).open)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
