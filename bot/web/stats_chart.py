"""``/c/{ref}/chart.png``: the supporters-over-time chart on a launched campaign's public page.

Only a launched campaign has one (anything else is a 404, so the route tells nobody which
references exist before launch). Labels follow the reader's ``Accept-Language``. Drawing
is CPU work done off the event loop, so the last pictures are kept, keyed by the figures
they show: a flood of requests for the same chart draws it once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from aiohttp import web
from jinja2 import Environment

from bot.services.stats import StatsService, chart_png
from bot.settings import Settings
from bot.web.media import UTC
from bot.web.rendering import Page

CHART_CACHE = "public, max-age=300"
KEPT = 64


class ChartRoutes:
    def __init__(self, settings: Settings, stats: StatsService, env: Environment) -> None:
        self.settings = settings
        self.stats = stats
        self.env = env
        self._kept: OrderedDict[tuple[object, ...], tuple[bytes, str]] = OrderedDict()

    async def chart(self, request: web.Request) -> web.Response:
        figures = await self.stats.public_figures(request.match_info["ref"])
        if figures is None:
            raise web.HTTPNotFound()
        language = Page(self.env, request, self.settings.default_language, UTC).language
        points = tuple(figures.supporters_over_time())
        key = (figures.campaign.ref, figures.campaign.title, language, points)
        found = self._kept.get(key)
        if found is None:
            png = await chart_png(figures, language)
            found = (png, hashlib.sha256(png).hexdigest()[:32])
            self._kept[key] = found
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        self._kept.move_to_end(key)
        png, etag = found
        headers = {"Cache-Control": CHART_CACHE, "Vary": "Accept-Language"}
        if any(tag.value == etag for tag in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(body=png, content_type="image/png", headers=headers)
        response.etag = etag
        return response
