"""The public campaign page in a real headless Chromium: phone and desktop widths,
JavaScript on and off, English and French. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import JoinLink
from bot.domain.refs import UserRef
from bot.ports import Repository
from tests.e2e.browser.conftest import ARTIFACTS, CHROMIUM
from tests.fakes.pledge_site import PledgeSite, start_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"
    ),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, telegram_bot_username="ChorusTestBot")
    try:
        yield running
    finally:
        await running.close()


@asynccontextmanager
async def opened(
    chromium: Any, viewport: dict[str, int], *, locale: str, javascript: bool = True
) -> AsyncIterator[Any]:
    """A page in a fresh context; console errors are collected on ``page.console_errors``."""
    context = await chromium.new_context(
        viewport=viewport,
        device_scale_factor=2 if viewport is PHONE else 1,
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
        locale=locale,
        timezone_id="America/New_York",
        java_script_enabled=javascript,
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    try:
        yield page
    finally:
        await context.close()


async def no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


async def test_phone_english_with_javascript(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=20)

    async with opened(chromium, PHONE, locale="en-GB") as page:
        response = await page.goto(f"{site.url}/c/{campaign.ref}")
        assert response.status == 200
        assert await page.title() == "Save the river · Chorus"
        # JavaScript moved the launch time to the browser's zone.
        assert "EST" in await page.locator("time[data-local]").inner_text()
        assert "America/New_York" in await page.locator("[data-tz-note]").inner_text()
        assert await page.get_by_role("link", name="Support on Telegram").is_visible()
        assert await page.get_by_role("button", name="Copy").is_visible()
        assert await page.locator(".qr svg").is_visible()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / "public-phone-en.png"), full_page=True)
        assert page.console_errors == []  # no CSP violation, no script error


async def test_phone_french_without_javascript(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=20)

    async with opened(chromium, PHONE, locale="fr-FR", javascript=False) as page:
        await page.goto(f"{site.url}/c/{campaign.ref}")
        moment = await page.locator("time[data-local]").inner_text()
        assert moment.endswith(" UTC")  # the server's text, untouched
        assert "Les heures sont affichées en UTC." in await page.locator("main").inner_text()
        assert await page.get_by_role("link", name="Soutenir sur Telegram").is_visible()
        assert not await page.get_by_role("button", name="Copier").is_visible()
        assert await page.get_by_label("Lien vers cette page").input_value() == (
            f"{site.url}/c/{campaign.ref}"
        )
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / "public-phone-fr-no-js.png"), full_page=True)

        await page.get_by_label("Partager sur Mastodon : votre instance").fill("pas une instance")
        await page.get_by_role("button", name="Partager", exact=True).click()
        assert (
            "ne ressemble pas à l'adresse d'une instance"
            in await page.locator("main").inner_text()
        )


async def test_desktop_french_with_javascript(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=0)

    async with opened(chromium, DESKTOP, locale="fr-FR") as page:
        await page.goto(f"{site.url}/c/{campaign.ref}")
        assert await page.locator("html").get_attribute("lang") == "fr"
        assert "0 soutien pour l'instant" in await page.locator("main").inner_text()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / "public-desktop-fr.png"), full_page=True)
        assert page.console_errors == []


async def test_desktop_english_without_javascript(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=20)

    async with opened(chromium, DESKTOP, locale="en-GB", javascript=False) as page:
        await page.goto(f"{site.url}/c/{campaign.ref}")
        assert (await page.locator("time[data-local]").inner_text()).endswith(" UTC")
        await page.screenshot(path=str(ARTIFACTS / "public-desktop-en-no-js.png"), full_page=True)


async def test_phone_launched_results(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.launched(await site.campaign(goal=2), posts=7)

    async with opened(chromium, PHONE, locale="en-GB") as page:
        await page.goto(f"{site.url}/c/{campaign.ref}")
        main = await page.locator("main").inner_text()
        assert "Launched: the messages went out together." in main
        assert "7 posts went out" in main
        assert await page.locator(".posts a").count() == 5
        assert not await page.get_by_role("link", name="Support on Telegram").is_visible()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / "public-phone-launched.png"), full_page=True)


async def test_discord_join_link_beside_telegram(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=20)
    invite = JoinLink("discord", "https://discord.gg/chorus", invite=True)
    await site.repo.update_campaign(replace(campaign, join_link=invite))

    for viewport, locale, name, shot in (
        (PHONE, "en-GB", "Support on Discord", "public-discord-phone-en.png"),
        (DESKTOP, "fr-FR", "Soutenir sur Discord", "public-discord-desktop-fr.png"),
    ):
        async with opened(chromium, viewport, locale=locale) as page:
            response = await page.goto(f"{site.url}/c/{campaign.ref}")
            assert response.status == 200
            link = page.get_by_role("link", name=name)
            assert await link.is_visible()
            assert await link.get_attribute("href") == "https://discord.gg/chorus"
            assert "noopener" in (await link.get_attribute("rel") or "")
            await no_sideways_scroll(page)
            await page.locator(".join").screenshot(path=str(ARTIFACTS / shot))
            assert page.console_errors == []


async def test_launched_chart_and_posts_by_network(site: PledgeSite, chromium: Any) -> None:
    campaign = await site.campaign(goal=2)
    for n in range(6):  # pledges over a few hours, so the chart climbs
        site.clock.advance(timedelta(hours=3))
        person = UserRef("test", f"80{n}", f"Early {n}", "en")
        await site.pledge(campaign, person, network=MASTODON if n % 2 else X)
    campaign = await site.launched(campaign, posts=3)

    for viewport, locale, heading, shot in (
        (PHONE, "en-GB", "X 3 posts", "public-chart-phone-en.png"),
        (DESKTOP, "fr-FR", "X 3 publications", "public-chart-desktop-fr.png"),
    ):
        async with opened(chromium, viewport, locale=locale) as page:
            await page.goto(f"{site.url}/c/{campaign.ref}")
            chart = page.locator(".chart img")
            await chart.scroll_into_view_if_needed()
            await page.wait_for_function(
                "() => document.querySelector('.chart img').complete"
                " && document.querySelector('.chart img').naturalWidth === 640"
            )
            assert "9" in (await chart.get_attribute("alt") or "")  # supporters in all
            assert heading in await page.locator(".results").inner_text()
            assert await page.locator(".by-network li").count() == 1  # only X posted
            await no_sideways_scroll(page)
            await page.locator(".results").screenshot(path=str(ARTIFACTS / shot))
            assert page.console_errors == []
