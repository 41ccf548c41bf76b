"""The pledge pages in a real headless Chromium at phone width (390×844).

Screenshots land in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from bot.domain.variants import Variant
from bot.ports import Repository
from tests.e2e.browser.conftest import ARTIFACTS, CHROMIUM
from tests.e2e.browser.test_web_pledge import open_the_qr
from tests.fakes.pledge_site import PledgeSite, free_port, start_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"
    ),
]


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def phone(chromium: Any) -> AsyncIterator[Any]:
    context = await chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="America/New_York",
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        await context.close()


async def test_mastodon_pledge_in_a_phone_browser(site: PledgeSite, phone: Any) -> None:
    campaign = await site.campaign(goal=20)

    response = await phone.goto(site.link(campaign))
    assert response.status == 200
    assert await phone.title() == "Support “Save the river” · Chorus"
    # JavaScript moved the launch time to the browser's zone and told the form.
    assert "EST" in await phone.locator("time[data-local]").first.inner_text()
    assert await phone.locator("input[name=tz]").input_value() == "America/New_York"
    assert "X 53/280" in await phone.locator("#message-count").inner_text()
    owner = await phone.locator(".link-owner").inner_text()
    assert owner.startswith("This link was made for Sam on test. Not you?")
    await phone.screenshot(path=str(ARTIFACTS / "pledge-page.png"), full_page=True)

    await phone.get_by_label("Your Mastodon instance").fill(site.mastodon.host)
    await phone.get_by_role("button", name="Pledge with Mastodon").click()
    await phone.wait_for_url("**/oauth/mastodon/callback**")

    assert await phone.get_by_role("heading", level=1).inner_text() == (
        f"Thank you, @bob@{site.mastodon.host}!"
    )
    assert "07:00 EST" in await phone.locator("main").inner_text()  # the browser's zone
    await phone.screenshot(path=str(ARTIFACTS / "thank-you-page.png"), full_page=True)
    await open_the_qr(phone, "Show a QR code", "thank-you-page-qr")
    assert campaign.id is not None
    assert len(await site.repo.pledges_of_campaign(campaign.id)) == 1
    assert phone.console_errors == []  # no CSP violation, no script error


async def test_form_error_is_shown_next_to_the_field(site: PledgeSite, phone: Any) -> None:
    campaign = await site.campaign()
    await phone.goto(site.link(campaign))

    await phone.get_by_label("Your message (optional)").fill("No hashtag here, sorry")
    await phone.get_by_label("Your Mastodon instance").fill("mastodon.example")
    await phone.get_by_role("button", name="Pledge with Mastodon").click()

    error = phone.locator("#message-error")
    assert "must keep the campaign's hashtags" in await error.inner_text()
    assert await phone.get_by_label("Your message (optional)").input_value() == (
        "No hashtag here, sorry"
    )
    assert await phone.get_by_label("Your Mastodon instance").input_value() == "mastodon.example"
    assert "This link was made for Sam" in await phone.locator(".link-owner").inner_text()
    await phone.screenshot(path=str(ARTIFACTS / "pledge-form-error.png"), full_page=True)


async def test_pledge_works_without_javascript(site: PledgeSite, phone: Any) -> None:
    await phone.context.close()
    browser = phone.context.browser
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    campaign = await site.campaign()
    try:
        await page.goto(site.link(campaign))
        assert "13:00 CET" in await page.locator("time[data-local]").first.inner_text()
        counter = page.locator("#message-count")  # the script shows and fills it
        assert await counter.evaluate("e => getComputedStyle(e).display") == "none"
        await page.get_by_role("button", name="Pledge with X").click()
        await page.wait_for_url("**/oauth/x/callback**")
        assert "Thank you, @alice!" in await page.get_by_role("heading", level=1).inner_text()
        await page.screenshot(path=str(ARTIFACTS / "thank-you-no-js.png"), full_page=True)
    finally:
        await context.close()


async def test_the_widget_shows_inside_another_site_and_the_pledge_page_does_not(
    site: PledgeSite, phone: Any
) -> None:
    campaign = await site.campaign(title="Save the river", goal=20)
    embed = f"{site.url}/c/{campaign.ref}/embed"
    host_page = (
        f"<!doctype html><title>An organiser's site</title><h1>Our campaign</h1>"
        f'<iframe id="widget" src="{embed}" width="360" height="300"></iframe>'
        f'<iframe id="pledge" src="{site.link(campaign)}" width="360" height="100"></iframe>'
    )

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=host_page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        # "localhost" is another origin than the pledge site's 127.0.0.1
        await phone.goto(f"http://localhost:{port}/", wait_until="load")
        widget = phone.frame_locator("#widget")
        await widget.get_by_role("link", name="Support this campaign").wait_for()
        assert await widget.get_by_role("heading").inner_text() == "Save the river"
        pledge_frame = await (await phone.query_selector("#pledge")).content_frame()
        assert pledge_frame.url.startswith("chrome-error:")  # refused: framing forbidden
        [refusal] = [e for e in phone.console_errors if "Content Security Policy" in e]
        assert "frame-ancestors 'none'" in refusal  # the pledge page's; the widget's is clean
        await phone.screenshot(path=str(ARTIFACTS / "embed-widget.png"), full_page=True)
    finally:
        await runner.cleanup()


async def test_choosing_a_wording_without_javascript(site: PledgeSite, phone: Any) -> None:
    """Several wordings: JS-free radios, the suggested one checked; the choice is stored."""
    campaign = await site.campaign()
    other = "Our river, our future #SaveTheRiver https://example.org/river"
    french = "Sauvons notre rivière ! #SaveTheRiver https://example.org/river"
    campaign = await site.repo.update_campaign(
        replace(campaign, variants=(Variant(other), Variant(french, "fr")))
    )
    await phone.context.close()
    context = await phone.context.browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    try:
        await page.goto(site.link(campaign))
        radios = page.get_by_role("radio")
        assert await radios.count() == 3
        assert await radios.nth(0).is_checked()  # the next in turn for Sam
        await page.screenshot(path=str(ARTIFACTS / "pledge-variants.png"), full_page=True)
        await page.get_by_text(french).click()
        assert await radios.nth(2).is_checked()
        await page.get_by_label("Your Mastodon instance").fill(site.mastodon.host)
        await page.get_by_role("button", name="Pledge with Mastodon").click()
        await page.wait_for_url("**/oauth/mastodon/callback**")
        assert french in await page.locator("main").inner_text()
    finally:
        await context.close()
    [row] = await site.repo.pledges_of_campaign(campaign.id or 0)
    assert (row.variant, row.message) == (2, None)
