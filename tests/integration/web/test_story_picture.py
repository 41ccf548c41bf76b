"""The story and the picture on the pages, over real HTTP: the story's paragraphs escaped
with only http(s) addresses made links, the picture served from ``/c/{REF}/picture`` with
its type, cache headers and nosniff, only for a public campaign; the link preview draws it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.domain.campaign import CampaignStatus
from bot.ports import Repository
from tests.fakes.pledge_site import PledgeSite, start_site

STORY = (
    "Our river <script>alert(1)</script> is dying & we care.\n"
    "Read more: https://river.example/why?a=1&b=2.\n\n"
    'Second paragraph, javascript:alert(1) and "quotes".'
)


def photo(
    colour: tuple[int, int, int] = (220, 40, 40), size: tuple[int, int] = (800, 600)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.close()


async def test_the_public_page_shows_the_story_escaped_and_the_picture(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(story=STORY, picture=photo())
    async with browser.get(f"{site.url}/c/{campaign.ref}") as response:
        html = await response.text()
    assert "<script>alert(1)</script>" not in html
    assert "Our river &lt;script&gt;alert(1)&lt;/script&gt; is dying &amp; we care." in html
    assert (
        '<a href="https://river.example/why?a=1&amp;b=2" rel="nofollow noopener ugc">'
        "https://river.example/why?a=1&amp;b=2</a>." in html
    )
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert html.count("<p>") >= 2 and "&#34;quotes&#34;" in html
    assert f'<img src="/c/{campaign.ref}/picture"' in html
    assert "The picture of the campaign “Save the river”" in html
    # the link preview stays the 1200×630 card
    assert f'content="{site.url}/c/{campaign.ref}/preview.png"' in html


async def test_the_pledge_page_shows_the_story_and_the_picture(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(story="Why we speak up.", picture=photo())
    async with browser.get(site.link(campaign)) as response:
        html = await response.text()
    assert response.status == 200
    assert "<p>Why we speak up.</p>" in html
    assert f'<img src="/c/{campaign.ref}/picture"' in html


async def test_without_story_or_picture_the_pages_show_neither(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign()
    async with browser.get(f"{site.url}/c/{campaign.ref}") as response:
        html = await response.text()
    assert 'class="story"' not in html and "/picture" not in html
    async with browser.get(f"{site.url}/c/{campaign.ref}/picture") as response:
        assert response.status == 404


async def test_the_picture_route_serves_the_normalised_picture_with_safe_headers(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(picture=photo(size=(3000, 1500)))
    url = f"{site.url}/c/{campaign.ref.lower()}/picture"
    async with browser.get(url) as response:
        body = await response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "public, max-age=86400"
        etag = response.headers["ETag"]
    with Image.open(io.BytesIO(body)) as image:
        assert (image.format, image.size) == ("JPEG", (1600, 800))
    async with browser.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304 and await response.read() == b""


@pytest.mark.parametrize(
    "status", [CampaignStatus.PENDING_REVIEW, CampaignStatus.REJECTED, CampaignStatus.CANCELLED]
)
async def test_a_campaign_that_is_not_public_has_no_picture(
    site: PledgeSite, browser: aiohttp.ClientSession, status: CampaignStatus
) -> None:
    campaign = await site.campaign(picture=photo(), status=status)
    async with browser.get(f"{site.url}/c/{campaign.ref}/picture") as response:
        assert response.status == 404


@pytest.mark.parametrize("ref", ["../../etc/passwd", "A" * 40, "%2e%2e%2fsecret"])
async def test_odd_references_have_no_picture(
    site: PledgeSite, browser: aiohttp.ClientSession, ref: str
) -> None:
    async with browser.get(f"{site.url}/c/{ref}/picture") as response:
        assert response.status == 404


async def test_the_link_preview_draws_the_picture(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    plain = await site.campaign()
    pictured = await site.campaign(picture=photo(colour=(0, 200, 0)))
    previews = []
    for campaign in (plain, pictured):
        async with browser.get(f"{site.url}/c/{campaign.ref}/preview.png") as response:
            previews.append(Image.open(io.BytesIO(await response.read())).convert("RGB"))
    for image in previews:
        assert image.size == (1200, 630)
    beside_title = (950, 250)  # inside the picture's place, right of the title
    assert previews[0].getpixel(beside_title) != (0, 200, 0)
    red, green, blue = previews[1].getpixel(beside_title)
    assert green > 150 and red < 60 and blue < 60


async def test_the_moderators_link_serves_a_picture_before_the_campaign_is_public(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(picture=photo(), status=CampaignStatus.PENDING_REVIEW)
    assert campaign.picture is not None
    async with browser.get(f"{site.url}/pictures/{campaign.picture}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Robots-Tag"] == "noindex"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for key in ("0" * 64 + ".jpg", "..%2F..%2Fetc%2Fpasswd", campaign.picture.upper(), "x"):
        async with browser.get(f"{site.url}/pictures/{key}") as response:
            assert response.status == 404
