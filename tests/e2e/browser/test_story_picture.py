"""The pledge page and the public page of a campaign with a story and a picture, in a real
headless Chromium at phone and desktop widths. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from bot.ports import Repository
from tests.e2e.browser.conftest import ARTIFACTS, CHROMIUM
from tests.e2e.browser.test_public_page import DESKTOP, PHONE, no_sideways_scroll, opened
from tests.fakes.pledge_site import PledgeSite, start_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"
    ),
]

STORY = (
    "For twenty years the river has fed our town. This summer, for the first time, the "
    "fish died in their thousands below the new plant.\n\n"
    "On Saturday at noon we ask the council, together and at the same moment, to publish "
    "the water tests: https://river.example/tests\n\n"
    "Nobody posts before the launch, and you can withdraw until then."
)


def river_picture() -> bytes:
    """A landscape: sky, hills and a river, as an organiser's photo might be."""
    image = Image.new("RGB", (1600, 900), (140, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((1200, 80, 1380, 260), fill=(255, 220, 120))
    draw.polygon(
        [(0, 520), (420, 330), (900, 520), (1300, 360), (1600, 500), (1600, 900), (0, 900)],
        fill=(70, 130, 80),
    )
    draw.polygon([(600, 900), (760, 560), (860, 560), (1100, 900)], fill=(60, 110, 180))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, telegram_bot_username="ChorusTestBot")
    try:
        yield running
    finally:
        await running.close()


async def check_story_and_picture(page: Any) -> None:
    picture = page.locator(".campaign-picture img")
    await picture.scroll_into_view_if_needed()
    assert await picture.is_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 1600
    story = page.locator(".story")
    assert "the fish died in their thousands" in await story.inner_text()
    assert await story.locator("p").count() == 3
    link = story.get_by_role("link", name="https://river.example/tests")
    assert await link.get_attribute("rel") == "nofollow noopener ugc"
    await no_sideways_scroll(page)
    assert page.console_errors == []  # the picture passes the CSP, no script error


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
async def test_public_page_with_story_and_picture(
    site: PledgeSite, chromium: Any, viewport: dict[str, int], name: str
) -> None:
    campaign = await site.campaign(goal=20, story=STORY, picture=river_picture())
    async with opened(chromium, viewport, locale="en-GB") as page:
        response = await page.goto(f"{site.url}/c/{campaign.ref}")
        assert response.status == 200
        await check_story_and_picture(page)
        shot = ARTIFACTS / f"story-public-{name}.png"
        await page.screenshot(path=str(shot), full_page=True)


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
async def test_pledge_page_with_story_and_picture(
    site: PledgeSite, chromium: Any, viewport: dict[str, int], name: str
) -> None:
    campaign = await site.campaign(goal=20, story=STORY, picture=river_picture())
    async with opened(chromium, viewport, locale="en-GB") as page:
        response = await page.goto(site.link(campaign))
        assert response.status == 200
        await check_story_and_picture(page)
        shot = ARTIFACTS / f"story-pledge-{name}.png"
        await page.screenshot(path=str(shot), full_page=True)
