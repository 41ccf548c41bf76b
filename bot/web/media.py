"""The routes that show a campaign outside the bot's chats: preview image, badge and widget.

``/c/{ref}/preview.png`` is the Open Graph / Twitter-card picture, ``/c/{ref}/badge.svg``
a live badge and ``/c/{ref}/embed`` a compact card other sites may frame. Each asks
``CampaignMedia`` for the campaign (an unknown or not yet public one is a 404), words the
figures in the reader's language and renders them. Times are shown in UTC: a picture or a
badge has no reader's time zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment

from bot.progress import percent
from bot.services.campaign_media import CampaignMedia, Showcase
from bot.services.pictures import StoredPicture
from bot.settings import Settings
from bot.web.badge import badge_svg
from bot.web.preview_image import PreviewCache, PreviewCard
from bot.web.rendering import Page
from bot.web.security import allow_framing

UTC = ZoneInfo("UTC")
PREVIEW_CACHE = "public, max-age=300"
LIVE_CACHE = "public, max-age=60"  # the badge and the widget: figures move, keep them fresh
PICTURE_CACHE = "public, max-age=86400"


def supporters_text(page: Page, showcase: Showcase) -> str:
    """``42 of 100 supporters`` (``42 supporters`` when there is no minimum)."""
    goal = showcase.campaign.goal
    if goal > 0:
        return page._("web.media.supporters_goal", supporters=showcase.supporters, goal=goal)
    return page._("web.media.supporters", supporters=showcase.supporters)


def figures_text(page: Page, showcase: Showcase) -> str:
    """``42 of 100 supporters · reach 12345 followers``."""
    reach = page._("web.media.reach", reach=showcase.reach)
    return f"{supporters_text(page, showcase)} · {reach}"


def share(showcase: Showcase) -> int | None:
    """How full the bar is, in percent; None when the campaign has no minimum."""
    goal = showcase.campaign.goal
    return percent(showcase.supporters, goal) if goal > 0 else None


class MediaRoutes:
    def __init__(
        self, settings: Settings, media: CampaignMedia, env: Environment, cache: PreviewCache
    ) -> None:
        self.settings = settings
        self.media = media
        self.env = env
        self.cache = cache

    def page(self, request: web.Request) -> Page:
        return Page(self.env, request, self.settings.default_language, UTC)

    async def showcase(self, request: web.Request) -> Showcase:
        found = await self.media.showcase(request.match_info["ref"])
        if found is None:
            raise web.HTTPNotFound()
        return found

    def public_url(self, showcase: Showcase, tail: str = "") -> str:
        return f"{self.settings.public_url}/c/{showcase.campaign.ref}{tail}"

    async def preview(self, request: web.Request) -> web.Response:
        showcase = await self.showcase(request)
        page = self.page(request)
        card = PreviewCard(
            site_name=page._("web.site_name"),
            title=showcase.campaign.title,
            figures=figures_text(page, showcase),
            launch=page._("web.media.launch", launch_at=showcase.campaign.launch_at),
            percent=share(showcase),
            picture=await self.media.picture_of(showcase.campaign),
        )
        picture = await self.cache.picture((*showcase.fingerprint, page.language), card)
        headers = {"Cache-Control": PREVIEW_CACHE, "Vary": "Accept-Language"}
        if any(tag.value == picture.etag for tag in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(body=picture.png, content_type="image/png", headers=headers)
        response.etag = picture.etag
        return response

    async def picture(self, request: web.Request) -> web.Response:
        """The campaign's own picture, as it was kept: re-encoded by Chorus, so its type is
        known; nosniff (on every response) keeps a browser from guessing another."""
        return self._picture_response(request, await self.media.picture(request.match_info["ref"]))

    async def picture_by_key(self, request: web.Request) -> web.Response:
        """``/pictures/{key}``: the moderators' link, for a campaign not yet public."""
        found = await self.media.picture_by_key(request.match_info["key"])
        response = self._picture_response(request, found)
        response.headers["X-Robots-Tag"] = "noindex"
        return response

    def _picture_response(self, request: web.Request, found: StoredPicture | None) -> web.Response:
        if found is None:
            raise web.HTTPNotFound()
        etag = found.key.split(".", 1)[0][:32]
        headers = {"Cache-Control": PICTURE_CACHE, "X-Content-Type-Options": "nosniff"}
        if any(tag.value == etag for tag in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(
                body=found.data, content_type=found.content_type, headers=headers
            )
        response.etag = etag
        return response

    async def badge(self, request: web.Request) -> web.Response:
        showcase = await self.showcase(request)
        page = self.page(request)
        campaign = showcase.campaign
        if campaign.goal > 0:
            value = page._(
                "web.media.badge_goal", supporters=showcase.supporters, goal=campaign.goal
            )
        else:
            value = supporters_text(page, showcase)
        return web.Response(
            text=badge_svg(page._("web.site_name"), value, campaign.title),
            content_type="image/svg+xml",
            charset="utf-8",
            headers={"Cache-Control": LIVE_CACHE, "Vary": "Accept-Language"},
        )

    async def embed(self, request: web.Request) -> web.Response:
        showcase = await self.showcase(request)
        page = self.page(request)
        figures = figures_text(page, showcase)
        response = page.response(
            "embed.html",
            campaign=showcase.campaign,
            supporters=supporters_text(page, showcase),
            reach=page._("web.media.reach", reach=showcase.reach),
            share=share(showcase),
            launch=page._("web.media.launch", launch_at=showcase.campaign.launch_at),
            public_url=self.public_url(showcase),
            image_url=self.public_url(showcase, "/preview.png"),
            image_alt=page._(
                "web.media.image_alt", title=showcase.campaign.title, figures=figures
            ),
            description=figures,
        )
        response.headers["Cache-Control"] = LIVE_CACHE
        response.headers["Vary"] = "Accept-Language"
        allow_framing(response, self.settings.embed_frame_ancestors)
        return response
