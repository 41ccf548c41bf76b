"""The thank-you page's QR code, drawn only when asked for, over real HTTP.

The page draws no QR code itself: it links ``/c/{REF}/qr.svg?via=CODE`` behind a
disclosure, and that image is the QR code of exactly the recruit link the page shows (the
same drawing the page used to inline), cacheable (public, an ETag revalidated with 304).
An unknown or hidden campaign, or a ``via`` that is not a recruit code, is a 404 with
nothing drawn; the route counts against the site's rate limit like the other pages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import aiohttp
import pytest

from bot.domain.campaign import CampaignStatus
from bot.ports import Repository
from bot.web.qr import qr_svg
from bot.web.recruit_qr import drawn
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.web.test_campaign_media import SVG
from tests.integration.web.test_recruiter_pages import A, chain, qr_paths, thanks_page

Browser = aiohttp.ClientSession


class Disclosure(HTMLParser):
    """The attributes of the images inside ``<details class="qr">``, and its summary."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.summary = ""
        self._depth = 0
        self._in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "details" and "qr" in (found.get("class") or "").split():
            self._depth += 1
        elif self._depth and tag == "img":
            self.images.append(found)
        elif self._depth and tag == "summary":
            self._in_summary = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self._depth:
            self._depth -= 1
        elif tag == "summary":
            self._in_summary = False

    def handle_data(self, data: str) -> None:
        if self._in_summary:
            self.summary += data


def recruit_link(html: str) -> str:
    return re.findall(r'class="recruit-link" href="([^"]+)"', html)[0]


async def fetch(
    browser: Browser, url: str, **headers: str
) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with browser.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.read(), response


async def test_the_thank_you_page_links_the_qr_image_of_its_recruit_link(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    html = await thanks_page(site, browser, campaign.ref, "")
    recruit = recruit_link(html)
    page = Disclosure()
    page.feed(html)

    assert "<svg" not in html  # nothing drawn for the page itself
    assert page.summary.strip() == "Show a QR code"
    [image] = page.images
    code = recruit.rsplit("=", 1)[1]
    assert image["src"] == f"{site.url}/c/{campaign.ref}/qr.svg?via={code}"
    assert image["loading"] == "lazy"
    assert image["alt"] == f"QR code of your link to “{campaign.title}”"
    assert image["width"] == image["height"]

    status, body, response = await fetch(browser, str(image["src"]))
    assert status == 200
    assert response.content_type == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    root = ET.fromstring(body)
    assert root.tag == f"{SVG}svg" and "viewBox" in root.attrib
    # the very drawing the page inlined before: the QR code of the link it shows
    assert qr_paths(body.decode()) == qr_paths(str(qr_svg(recruit, "any title")))

    etag = response.headers["ETag"]
    status, body, response = await fetch(browser, str(image["src"]), **{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert response.headers["ETag"] == etag

    status, _, _ = await fetch(browser, str(image["src"]), **{"Accept-Language": "fr"})
    assert status == 200  # the same image in every language: no Vary needed


async def test_an_unknown_campaign_or_a_bad_code_is_a_404_with_nothing_drawn(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    code = site.core.pledges.recruits.code(campaign.ref, A)
    pending = await site.campaign(status=CampaignStatus.PENDING_REVIEW)
    cancelled = await site.campaign(status=CampaignStatus.CANCELLED)
    drawn.cache_clear()
    base = f"{site.url}/c/{campaign.ref}/qr.svg"
    refused = [
        f"{site.url}/c/ZZZZZZ/qr.svg?via={code}",
        f"{site.url}/c/{pending.ref}/qr.svg?via={code}",
        f"{site.url}/c/{cancelled.ref}/qr.svg?via={code}",
        f"{site.url}/c/{'A' * 200}/qr.svg?via={code}",
        base,
        f"{base}?via=",
        f"{base}?via={code.lower()}",
        f"{base}?via={code}A",
        f"{base}?via={code[:7]}1",  # 1 is not in the code's alphabet
        f"{base}?via={'A' * 5000}",
    ]
    for url in refused:
        status, _, response = await fetch(browser, url)
        assert status == 404, url
        assert "max-age" not in response.headers["Cache-Control"]
    assert drawn.cache_info().misses == 0

    assert (await fetch(browser, f"{base}?via={code}"))[0] == 200
    assert drawn.cache_info().misses == 1
    assert (await fetch(browser, f"{base}?via={code}"))[0] == 200
    assert drawn.cache_info().hits == 1  # kept, not drawn twice


@pytest.fixture
async def tight(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, web_rate_per_address=3)
    try:
        yield running
    finally:
        await running.close()


async def test_the_qr_route_counts_against_the_rate_limit(
    tight: PledgeSite, browser: Browser
) -> None:
    campaign = await tight.campaign()
    drawn.cache_clear()
    urls = [f"{tight.url}/c/{campaign.ref}/qr.svg?via={c * 8}" for c in "ABCD"]
    assert [(await fetch(browser, url))[0] for url in urls] == [200, 200, 200, 429]
    assert drawn.cache_info().currsize == 3  # the refused one was not drawn
