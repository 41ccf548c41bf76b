"""Pledging with Bluesky in a real headless Chromium, at phone and desktop widths: the page
offers Bluesky beside Mastodon and X, each network that asks for something typed has its
own field, the counter shows Bluesky's limit, and the handle leads through AT Protocol
OAuth (the loopback fakes) to the thank-you page. A bad handle is explained next to the
Bluesky field only. Screenshots land in ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.networks.bluesky_setup import build_bluesky
from adapters.networks.bluesky_spec import BLUESKY, BLUESKY_SPEC
from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.e2e.browser.conftest import ARTIFACTS, CHROMIUM
from tests.fakes.atproto_world import AtprotoWorld
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.networks.bluesky_kit import CLIENT_KEY

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"
    ),
]

SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "scale": 2},
    "desktop": {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "scale": 1},
}


@pytest.fixture
async def world() -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld() as fakes:
        yield fakes


@pytest.fixture
async def site(repo: Repository, world: AtprotoWorld) -> AsyncIterator[PledgeSite]:
    def more(registry: NetworkRegistry, settings: Settings, clock: FakeClock) -> list[Any]:
        world.auth.now = world.pds.now = world.identity.now = clock.now
        world.auth.dpop.now = world.pds.dpop.now = clock.now
        network, linker = build_bluesky(
            settings, repo, clock=clock, lookup=world.lookup, handle_url=world.handle_url
        )
        documents = linker.documents()
        world.auth.register_client(documents["client-metadata"], documents["jwks"])
        registry.register(
            BLUESKY_SPEC,
            network,
            linker=linker,
        )
        return [network]

    running = await start_site(
        repo, more=more, bluesky_client_key=CLIENT_KEY, **world.settings_values()
    )
    try:
        yield running
    finally:
        await running.close()


async def _page(chromium: Any, size: str) -> Any:
    spec = SIZES[size]
    context = await chromium.new_context(
        viewport=spec["viewport"],
        device_scale_factor=spec["scale"],
        is_mobile=spec["is_mobile"],
        has_touch=spec["is_mobile"],
        locale="en-GB",
        timezone_id="Europe/Paris",
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    return page


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_bluesky_pledge_in_chromium(
    site: PledgeSite, world: AtprotoWorld, chromium: Any, size: str
) -> None:
    alice = world.add("alice.test", followers=42)
    campaign = await site.campaign(
        goal=20,
        message="Save our river 🌊 #SaveTheRiver https://example.org/river",
        networks=(X, MASTODON, BLUESKY),
    )
    page = await _page(chromium, size)
    try:
        response = await page.goto(site.link(campaign))
        assert response.status == 200
        counter = await page.locator("#message-count").inner_text()
        assert "Bluesky" in counter and "/300" in counter
        assert await page.get_by_label("Your Mastodon instance").count() == 1
        assert await page.get_by_label("Your Bluesky handle").count() == 1
        await page.screenshot(path=str(ARTIFACTS / f"pledge-bluesky-{size}.png"), full_page=True)

        # a handle that does not exist: said next to the Bluesky field, nothing else
        await page.get_by_label("Your Bluesky handle").fill("nobody.test")
        await page.get_by_role("button", name="Pledge with Bluesky").click()
        error = page.locator("fieldset.bluesky #instance-error")
        assert "could not find a Bluesky account called nobody.test" in await error.inner_text()
        assert await page.locator("fieldset.mastodon #instance-error").count() == 0
        assert await page.get_by_label("Your Bluesky handle").input_value() == "nobody.test"
        await page.screenshot(
            path=str(ARTIFACTS / f"pledge-bluesky-error-{size}.png"), full_page=True
        )

        page.console_errors.clear()  # the refused form came back as a 400: expected

        await page.get_by_label("Your Bluesky handle").fill("alice.test")
        await page.get_by_role("button", name="Pledge with Bluesky").click()
        await page.wait_for_url("**/oauth/bluesky/callback**")
        heading = await page.get_by_role("heading", level=1).inner_text()
        assert heading == "Thank you, @alice.test!"
        await page.screenshot(
            path=str(ARTIFACTS / f"thank-you-bluesky-{size}.png"), full_page=True
        )
        assert page.console_errors == []
    finally:
        await page.context.close()
    assert campaign.id is not None
    (pledge,) = await site.repo.pledges_of_campaign(campaign.id)
    account = await site.repo.get_account(pledge.account_id)
    assert account is not None and account.remote_id == alice.did
