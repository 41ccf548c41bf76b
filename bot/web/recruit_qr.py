"""The QR code of a supporter's recruit link, drawn when asked: ``/c/{REF}/qr.svg?via=CODE``.

Drawing it inline on every thank-you page was the largest CPU item of a pledge, though
most supporters share with the buttons and never scan it; the page now shows it behind a
disclosure and the browser fetches this image only when it is opened. The route must not
become a free QR-drawing service: the campaign must have a public page (one indexed read),
``via`` must have the shape of a recruit code (whether it names a supporter is not checked:
a made-up code only draws the link it spells), the site's rate limiter
guards the route (``bot/web/app.py``), and what was drawn is kept in a bounded LRU, with an
ETag a browser revalidates. The image is the same for every reader and language (the page
names it in ``alt``), so it may be cached anywhere for a day: a link never changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from aiohttp import web

from bot.services.public_pages import Hidden, PublicPages
from bot.services.recruits import well_formed
from bot.web.qr import qr_svg_file

QR_CACHE = "public, max-age=86400"
DRAWN_KEPT = 512  # drawn files kept (a few KB each)
QR_FILE = "/qr.svg"


@dataclass(frozen=True)
class DrawnQr:
    svg: bytes
    etag: str


@lru_cache(maxsize=DRAWN_KEPT)
def drawn(url: str) -> DrawnQr:
    """The QR file of ``url`` and its ETag (a digest of the file: a new drawing, a new tag)."""
    svg = qr_svg_file(url)
    return DrawnQr(svg, hashlib.blake2b(svg, digest_size=12).hexdigest())


def qr_url(recruit_url: str) -> str:
    """Where the QR image of ``recruit_url`` (``…/c/REF?via=CODE``) is served."""
    page, mark, query = recruit_url.partition("?")
    return f"{page}{QR_FILE}{mark}{query}"


class RecruitQr:
    def __init__(self, pages: PublicPages) -> None:
        self.pages = pages

    async def image(self, request: web.Request) -> web.Response:
        """The QR image of the recruit link ``/c/{ref}?via={via}``; 404 (nothing drawn) for a
        campaign with no public page or a ``via`` that is not a recruit code."""
        via = request.query.get("via", "")
        if not well_formed(via):
            raise web.HTTPNotFound()
        campaign = await self.pages.find(request.match_info["ref"])
        if isinstance(campaign, Hidden):
            raise web.HTTPNotFound()
        qr = drawn(self.pages.recruit_url(campaign.ref, via))
        headers = {"Cache-Control": QR_CACHE}
        if any(tag.value == qr.etag for tag in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(body=qr.svg, content_type="image/svg+xml", headers=headers)
        response.etag = qr.etag
        return response
