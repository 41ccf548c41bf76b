"""The public page's figures once launched, over real HTTP: ``/c/{REF}/chart.png`` is a PNG
in the reader's language (cached, with an ETag), the page shows it and the posts by
network; before launch, or for an unknown or malformed reference, there is no chart."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.ports import Repository
from tests.fakes.pledge_site import PledgeSite, start_site


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.close()


async def test_a_launched_campaign_has_a_chart_and_posts_by_network(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.launched(await site.campaign(goal=2), posts=3)

    async with browser.get(f"{site.url}/c/{campaign.ref.lower()}/chart.png") as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert response.headers["Vary"] == "Accept-Language"
        english = await response.read()
        etag = response.headers["ETag"]
    image = Image.open(io.BytesIO(english))
    assert (image.format, image.size, image.mode) == ("PNG", (640, 360), "RGB")
    headers = {"If-None-Match": etag}
    async with browser.get(f"{site.url}/c/{campaign.ref}/chart.png", headers=headers) as again:
        assert again.status == 304
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    async with browser.get(f"{site.url}/c/{campaign.ref}/chart.png", headers=french) as fr:
        assert fr.status == 200
        assert await fr.read() != english  # the labels are French

    async with browser.get(f"{site.url}/c/{campaign.ref}") as page:
        html = await page.text()
    assert f'<img src="/c/{campaign.ref}/chart.png"' in html
    assert "3 supporters in all" in html
    assert "3 posts</li>" in html and "Posts by network" in html


async def test_no_chart_before_launch_or_for_unknown_references(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    live = await site.campaign()
    for ref in (live.ref, "ZZZZZZ", "../etc", "a" * 300):
        async with browser.get(f"{site.url}/c/{ref}/chart.png") as response:
            assert response.status == 404, ref
    async with browser.get(f"{site.url}/c/{live.ref}") as page:
        assert "chart.png" not in await page.text()
