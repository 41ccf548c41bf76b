"""The aiohttp application of the pledge web page.

``create_web_app`` is what the runtime serves on WEB_HOST:WEB_PORT and what the tests
drive over real HTTP: routes, static files, security headers and error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

from bot.ports import Clock
from bot.services.campaign_media import CampaignMedia
from bot.services.pledge_flow import PledgeFlow
from bot.services.public_pages import PublicPages
from bot.services.stats import StatsService
from bot.services.taps import TapService
from bot.services.web_supporters import WebSupporters
from bot.settings import Settings
from bot.web.handlers import PledgeSite
from bot.web.media import MediaRoutes
from bot.web.operations import Operations
from bot.web.preview_image import PreviewCache
from bot.web.public import PublicSite
from bot.web.rate_limit import RateLimits
from bot.web.recruit_qr import RecruitQr
from bot.web.rendering import STATIC, make_environment
from bot.web.security import add_security_headers
from bot.web.stats_chart import ChartRoutes
from bot.web.tap import TapRedirects
from bot.web.web_supporters import WebSupporterRoutes

log = logging.getLogger(__name__)

SITE_KEY = web.AppKey("chorus_site", PledgeSite)
LIMITS_KEY = web.AppKey("chorus_rate_limits", RateLimits)


def create_web_app(
    settings: Settings,
    clock: Clock,
    flow: PledgeFlow,
    taps: TapService,
    media: CampaignMedia,
    public: PublicPages,
    supporters: WebSupporters,
    stats: StatsService | None = None,
    *,
    operations: Operations | None = None,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
) -> web.Application:
    """The pledge site: it links accounts through ``flow``, opens tap links with ``taps``,
    shows approved campaigns to anyone through ``public``, and their preview image, badge
    and widget from ``media``; ``supporters`` lets a visitor pledge without a chat and
    manage that pledge. ``operations`` adds ``/readyz``, ``/metrics`` and the request
    counter. ``extra_routes`` are what a front end serves on the same site (a chat
    platform's webhook); each guards itself, and the core knows nothing of them."""
    site = PledgeSite(settings, flow, make_environment())
    shown = MediaRoutes(settings, media, site.env, PreviewCache())
    limits = RateLimits(settings, clock, site.env)
    limited = limits.guard  # each route a visitor can flood: per address, per link token
    app = web.Application(middlewares=[site.error_pages], client_max_size=64 * 1024)
    app[SITE_KEY] = site
    app[LIMITS_KEY] = limits
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/healthz", site.healthz)
    app.router.add_get("/pledge/{token}", limited(site.pledge_page))
    app.router.add_post("/pledge/{token}/{network}", limited(site.pledge_post))
    app.router.add_get("/oauth/{network}/callback", limited(site.callback))
    app.router.add_get("/oauth/{network}/{name}.json", limited(site.document))
    app.router.add_get("/tap/{token}", limited(TapRedirects(settings, taps, site.env).open))
    campaigns = PublicSite(public, site.env, settings.default_language)
    app.router.add_get("/c/{ref}", limited(campaigns.campaign))
    app.router.add_get("/c/{ref}/share/{network}", limited(campaigns.instance_share))
    app.router.add_get("/c/{ref}/preview.png", limited(shown.preview))
    app.router.add_get("/c/{ref}/badge.svg", limited(shown.badge))
    app.router.add_get("/c/{ref}/picture", limited(shown.picture))
    app.router.add_get("/pictures/{key}", limited(shown.picture_by_key))
    app.router.add_get("/c/{ref}/embed", limited(shown.embed))
    app.router.add_get("/c/{ref}/qr.svg", limited(RecruitQr(public).image))
    if stats is not None:  # a launched campaign's chart of supporters over time
        charts = ChartRoutes(settings, stats, site.env)
        app.router.add_get("/c/{ref}/chart.png", limited(charts.chart))
    web_only = WebSupporterRoutes(settings, supporters, site.env)
    app.router.add_post("/c/{ref}/pledge/{network}", limited(web_only.pledge_here))
    app.router.add_get("/manage/{token}", limited(web_only.manage))
    app.router.add_post("/manage/{token}/withdraw", limited(web_only.withdraw))
    app.router.add_post("/manage/{token}/erase", limited(web_only.erase))
    app.router.add_post("/manage/{token}/pledge", limited(web_only.pledge_again))
    app.router.add_post("/manage/{token}/recruiter", limited(web_only.recruiter_name))
    app.router.add_static("/static/", STATIC, append_version=False)
    if operations is not None:
        operations.install(app)
    app.router.add_routes(extra_routes)
    return app
