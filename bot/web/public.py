"""The public campaign page ``/c/{REF}`` and its hop to a visitor's own instance to share it.

Anyone may open it, in French or English from ``Accept-Language``; times are written in UTC
and the browser's script rewrites them in its own zone. The handlers read the request, call
``PublicPages`` and render what it returns; a campaign that is not public is a 404 page.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment

from bot.services.campaign_media import Showcase
from bot.services.public_pages import Hidden, PublicCampaign, PublicPages
from bot.web.media import figures_text
from bot.web.qr import qr_svg
from bot.web.rendering import Page

UTC = ZoneInfo("UTC")
DESCRIPTION_MAX = 200


def time_left(page: Page, left: timedelta) -> str:
    """``left`` in the largest whole unit: days, else hours, else minutes (at least one)."""
    minutes = max(1, int(left.total_seconds() // 60))
    if minutes >= 24 * 60:
        return page._("web.public.days_left", days=minutes // (24 * 60))
    if minutes >= 60:
        return page._("web.public.hours_left", hours=minutes // 60)
    return page._("web.public.minutes_left", minutes=minutes)


def description(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= DESCRIPTION_MAX else flat[: DESCRIPTION_MAX - 1] + "…"


class PublicSite:
    def __init__(self, pages: PublicPages, env: Environment, default_language: str) -> None:
        self.pages = pages
        self.env = env
        self.default_language = default_language

    def page(self, request: web.Request) -> Page:
        return Page(self.env, request, self.default_language, UTC)

    def hidden(self, page: Page, hidden: Hidden) -> web.Response:
        key = "web.public.cancelled" if hidden.cancelled else "web.error.not_found"
        return page.response("public_error.html", status=404, message=page._(key), back_url=None)

    async def campaign(self, request: web.Request) -> web.Response:
        page = self.page(request)
        via = request.query.get("via", "")[:32] or None
        shown = await self.pages.show(request.match_info["ref"], via)
        if isinstance(shown, Hidden):
            return self.hidden(page, shown)
        return self.render(page, shown)

    def render(self, page: Page, shown: PublicCampaign) -> web.Response:
        campaign = shown.campaign
        organiser = campaign.organiser
        stats = shown.stats
        figures = figures_text(page, Showcase(campaign, stats.supporters, stats.reach))
        return page.response(
            "campaign.html",
            shown=shown,
            campaign=campaign,
            stats=stats,
            organiser=organiser.name or organiser.id,
            networks=[str(n) for n in campaign.networks],
            launch_iso=campaign.launch_at.isoformat(),
            left=time_left(page, shown.time_left) if shown.time_left else None,
            description=description(campaign.message),
            public_url=shown.page_url,
            image_url=shown.preview_url,
            image_alt=page._("web.media.image_alt", title=campaign.title, figures=figures),
            qr=qr_svg(
                shown.share_url or shown.page_url,
                page._("web.public.qr_title", title=campaign.title),
            ),
        )

    async def instance_share(self, request: web.Request) -> web.Response:
        """The visitor typed their instance: off to its share page, or back with a message."""
        page = self.page(request)
        target = await self.pages.instance_share(
            request.match_info["ref"],
            request.match_info["network"],
            request.query.get("instance", "")[:300],
        )
        if isinstance(target, Hidden):
            return self.hidden(page, target)
        if target is None:
            message = page._("web.public.bad_instance")
            back = f"/c/{request.match_info['ref']}"
            return page.response("public_error.html", status=400, message=message, back_url=back)
        return web.Response(status=303, headers={"Location": target})
