"""Linking a Bluesky account through the pledge site over real HTTP: the handle field, the
client documents the site serves (fetched by the fake server as a real one would), the
round trip with the callback's ``iss``, and the refusals a supporter sees.

The network's spec belongs to the posting side; a stand-in with the linking side's fields
is registered here so this side is tested on its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.networks.bluesky_oauth import BLUESKY, SCOPES, BlueskyOAuth, Grant
from bot.domain.networks import DeliveryMode, LengthRule, NetworkSpec
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.networks.bluesky_kit import CLIENT_KEY
from tests.integration.web.test_pledge_flow import get, submit

SPEC = NetworkSpec(
    id=BLUESKY,
    order=3,
    length=LengthRule(limit=300, url_weight=None),
    modes=frozenset(DeliveryMode),
    scopes=SCOPES,
    typed_instance=True,
    instance_prompt="web.pledge.handle",
)


@pytest.fixture
async def world() -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld() as fakes:
        yield fakes


async def _site(repo: Repository, world: AtprotoWorld, **overrides: Any) -> PledgeSite:
    def more(registry: NetworkRegistry, settings: Settings, clock: FakeClock) -> list[Any]:
        world.auth.now = world.pds.now = world.identity.now = clock.now
        world.auth.dpop.now = world.pds.dpop.now = clock.now
        linker = BlueskyOAuth(
            settings,
            mode=DeliveryMode.AUTO,
            clock=clock,
            lookup=world.lookup,
            handle_url=world.handle_url,
        )
        registry.register(SPEC, linker, linker=linker)  # type: ignore[arg-type]
        return [linker]

    return await start_site(repo, more=more, **world.settings_values(), **overrides)


@pytest.fixture
async def site(repo: Repository, world: AtprotoWorld) -> AsyncIterator[PledgeSite]:
    running = await _site(repo, world, bluesky_client_key=CLIENT_KEY)
    try:
        async with aiohttp.ClientSession() as server:  # the fake server fetches the client
            base = f"{running.url}/oauth/bluesky"
            async with server.get(f"{base}/client-metadata.json") as answer:
                metadata = await answer.json()
            async with server.get(metadata["jwks_uri"]) as answer:
                jwks = await answer.json()
        world.auth.register_client(metadata, jwks)
        yield running
    finally:
        await running.close()


async def test_the_site_serves_the_client_documents_and_nothing_else(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    base = f"{site.url}/oauth/bluesky"
    async with browser.get(f"{base}/client-metadata.json") as answer:
        assert answer.status == 200
        assert answer.content_type == "application/json"
        metadata = await answer.json()
    assert metadata["client_id"] == f"{base}/client-metadata.json"
    assert metadata["redirect_uris"] == [f"{base}/callback"]
    async with browser.get(f"{base}/jwks.json") as answer:
        text = await answer.text()
    assert '"d"' not in text and '"kty": "EC"' in text
    for missing in (f"{base}/secrets.json", f"{site.url}/oauth/mastodon/jwks.json"):
        async with browser.get(missing) as answer:
            assert answer.status == 404


async def test_a_bluesky_pledge_round_trip(
    site: PledgeSite, world: AtprotoWorld, browser: aiohttp.ClientSession
) -> None:
    alice = world.add("alice.test", followers=9)
    campaign = await site.campaign(networks=(BLUESKY,))
    link = site.link(campaign)
    status, html, _ = await get(browser, link)
    assert "Your Bluesky handle" in html and 'placeholder="alice.bsky.social"' in html

    status, html, response = await submit(browser, link, str(BLUESKY), instance="alice.test")
    assert status == 303, html
    status, html, response = await get(browser, response.headers["Location"])
    assert status == 302, html
    callback = response.headers["Location"]
    assert parse_qs(urlsplit(callback).query)["iss"] == [world.auth.issuer]
    status, html, _ = await get(browser, callback)
    assert status == 200, html

    assert campaign.id is not None
    [row] = await site.repo.pledges_of_campaign(campaign.id)
    account = await site.repo.get_account(row.account_id)
    assert account is not None
    assert (account.remote_id, account.handle, account.followers) == (alice.did, "alice.test", 9)
    assert Grant.of(account.tokens).issuer == world.auth.issuer
    # the token calls carried the client's assertion, signed with the served key
    assert all("client_assertion=" in r.body for r in world.auth.seen("POST", "/oauth/token"))


async def test_a_callback_naming_another_issuer_pledges_nothing(
    site: PledgeSite, world: AtprotoWorld, browser: aiohttp.ClientSession
) -> None:
    world.add("bea.test")
    world.auth.redirect_issuer = "https://attacker.example"
    campaign = await site.campaign(networks=(BLUESKY,))
    link = site.link(campaign)
    status, html, response = await submit(browser, link, str(BLUESKY), instance="bea.test")
    status, html, response = await get(browser, response.headers["Location"])
    status, html, _ = await get(browser, response.headers["Location"])
    assert status >= 400
    assert "could not" in html.lower() or "failed" in html.lower()
    assert campaign.id is not None
    assert await site.repo.pledges_of_campaign(campaign.id) == []
    assert not world.auth.seen("POST", "/oauth/token")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("not a handle", "does not look like a Bluesky handle"),
        ("", "Type your Bluesky handle"),
        ("nobody.test", "could not find a Bluesky account called nobody.test"),
    ],
)
async def test_a_bad_handle_is_explained_on_the_form(
    site: PledgeSite, browser: aiohttp.ClientSession, typed: str, shown: str
) -> None:
    campaign = await site.campaign(networks=(BLUESKY,))
    status, html, _ = await submit(browser, site.link(campaign), str(BLUESKY), instance=typed)
    assert status == 400, html
    assert shown in html.replace("&#34;", '"').replace("&#39;", "'")
    assert 'id="instance-error"' in html
