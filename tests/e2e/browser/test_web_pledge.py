"""A whole web pledge in a real headless Chromium, with no chat at all: the public page →
"Pledge here" with Mastodon (instance typed in the form) → the fake instance's authorisation
→ the thank-you page and its private manage link → the manage page → withdraw → pledge again
→ erase; on the thank-you page the QR code opens from its disclosure (the image is fetched
only then when lazy loading is on, that is with JavaScript). Phone and desktop widths,
JavaScript on and off, English and French (four runs covering each of them, not all
sixteen). Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain.pledge import PledgeStatus
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

TEXTS = {
    "en": {
        "locale": "en-GB",
        "pledge_here": "Pledge here with Mastodon",
        "instance": "Your Mastodon instance",
        "with_mastodon": "Pledge with Mastodon",
        "thanks": "Thank you, @bob@{host}!",
        "qr_show": "Show a QR code",
        "pledged": "pledged",
        "withdraw": "Withdraw my pledge",
        "withdrawn_notice": "Done: your pledge is withdrawn.",
        "withdrawn": "withdrawn",
        "pledge_again": "Pledge again",
        "erase": "Erase everything",
        "erased": "Erased: your pledge and your linked account are gone.",
        "none": "There is no pledge here any more.",
    },
    "fr": {
        "locale": "fr-FR",
        "pledge_here": "S’engager ici avec Mastodon",
        "instance": "Votre instance Mastodon",
        "with_mastodon": "M'engager avec Mastodon",
        "thanks": "Merci, @bob@{host} !",
        "qr_show": "Afficher un QR code",
        "pledged": "promis",
        "withdraw": "Retirer mon engagement",
        "withdrawn_notice": "C’est fait : votre engagement est retiré.",
        "withdrawn": "retiré",
        "pledge_again": "M’engager à nouveau",
        "erase": "Tout effacer",
        "erased": "Effacé : votre engagement et votre compte lié ont disparu.",
        "none": "Il n’y a plus d’engagement ici.",
    },
}


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, telegram_bot_username="ChorusTestBot")
    try:
        yield running
    finally:
        await running.close()


async def authorise_on_the_instance(page: Any, site: PledgeSite, text: dict[str, str]) -> None:
    """On a pledge page: type the instance, press the button, land on the thank-you page."""
    await page.get_by_label(text["instance"]).fill(site.mastodon.host)
    await page.get_by_role("button", name=text["with_mastodon"]).click()
    await page.wait_for_url("**/oauth/mastodon/callback**")
    heading = await page.get_by_role("heading", level=1).inner_text()
    assert heading == text["thanks"].format(host=site.mastodon.host)


async def open_the_qr(page: Any, summary: str, shot: str) -> None:
    """On the thank-you page: open the QR disclosure, wait for the image, take pictures."""
    image = page.locator("details.qr img")
    assert not await image.is_visible()
    await page.get_by_text(summary, exact=True).click()
    await image.wait_for(state="visible")
    await page.wait_for_function(
        "() => { const i = document.querySelector('details.qr img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    box = await image.bounding_box()
    assert box is not None and 100 <= box["width"] == box["height"] <= 230
    await no_sideways_scroll(page)
    await image.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / f"{shot}.png"))
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(ARTIFACTS / f"{shot}-dark.png"))
    await page.emulate_media(color_scheme="light")


@pytest.mark.parametrize(
    ("lang", "width", "javascript"),
    [
        ("en", "phone", True),
        ("fr", "phone", False),
        ("fr", "desktop", True),
        ("en", "desktop", False),
    ],
)
async def test_web_pledge_then_withdraw_pledge_again_and_erase(
    site: PledgeSite, chromium: Any, lang: str, width: str, javascript: bool
) -> None:
    text = TEXTS[lang]
    viewport = PHONE if width == "phone" else DESKTOP
    shot = f"web-pledge-{width}-{lang}{'' if javascript else '-no-js'}"
    campaign = await site.campaign(goal=20)
    assert campaign.id is not None

    async with opened(chromium, viewport, locale=text["locale"], javascript=javascript) as page:
        asked: list[str] = []  # the QR images the browser fetched
        page.on("request", lambda r: asked.append(r.url) if "/qr.svg" in r.url else None)
        await page.goto(f"{site.url}/c/{campaign.ref}")
        await page.get_by_role("button", name=text["pledge_here"]).click()
        await page.wait_for_url("**/pledge/**")
        assert await page.locator(".link-owner").count() == 0  # no "made for … in your chat"
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / f"{shot}-1-pledge.png"), full_page=True)

        await authorise_on_the_instance(page, site, text)
        [row] = await site.repo.pledges_of_campaign(campaign.id)
        assert row.supporter.platform == "web" and row.status is PledgeStatus.PLEDGED
        manage = page.locator("a.manage-link")
        assert await manage.is_visible()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / f"{shot}-2-thanks.png"), full_page=True)
        if javascript:  # without it Chromium loads lazy images at once (no tracking by scroll)
            assert asked == []
        await open_the_qr(page, text["qr_show"], f"{shot}-2-thanks-qr")
        assert len(asked) == 1 and asked[0].startswith(f"{site.url}/c/{campaign.ref}/qr.svg?via=")

        await manage.click()
        await page.wait_for_url("**/manage/**")
        assert text["pledged"] in await page.locator(".pledges").inner_text()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / f"{shot}-3-manage.png"), full_page=True)

        await page.get_by_role("button", name=text["withdraw"]).click()
        await page.get_by_role("status").wait_for()
        assert await page.get_by_role("status").inner_text() == text["withdrawn_notice"]
        assert text["withdrawn"] in await page.locator(".pledges").inner_text()
        assert (await site.repo.campaign_stats(campaign.id)).supporters == 0
        await page.screenshot(path=str(ARTIFACTS / f"{shot}-4-withdrawn.png"), full_page=True)

        manage_url = page.url.split("?")[0]
        await page.get_by_role("button", name=text["pledge_again"]).click()
        await page.wait_for_url("**/pledge/**")
        await authorise_on_the_instance(page, site, text)
        assert (await site.repo.campaign_stats(campaign.id)).supporters == 1

        await page.goto(manage_url)
        assert text["pledged"] in await page.locator(".pledges").inner_text()
        await page.get_by_role("button", name=text["erase"]).click()
        await page.get_by_role("status").wait_for()
        assert await page.get_by_role("status").inner_text() == text["erased"]
        assert text["none"] in await page.locator("main").inner_text()
        await no_sideways_scroll(page)
        await page.screenshot(path=str(ARTIFACTS / f"{shot}-5-erased.png"), full_page=True)
        assert page.console_errors == []  # no CSP violation, no script error

    assert await site.repo.pledges_of_campaign(campaign.id) == []
    assert await site.repo.accounts_of(row.supporter) == []
