"""A flood of requests through the real pledge site gets 429 pages; the next visitor gets in.

The site's clock is a fake one, so the limits' minute passes only when a test says so.
Tests that need several client addresses run the site "behind a trusted proxy" and name
the address in ``X-Forwarded-For``, as that proxy would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.web.app import LIMITS_KEY
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.web.test_pledge_flow import Browser

Start = Callable[..., Awaitable[PledgeSite]]
SACHA = UserRef("test", "502", "Sacha", "fr")


@pytest.fixture
async def start(repo: Repository) -> AsyncIterator[Start]:
    started: list[PledgeSite] = []

    async def make(**overrides: Any) -> PledgeSite:
        site = await start_site(repo, **overrides)
        started.append(site)
        return site

    yield make
    for site in started:
        await site.close()


async def fetch(
    browser: Browser, url: str, *, via: str | None = None, language: str = "en"
) -> tuple[int, str, aiohttp.ClientResponse]:
    headers = {"Accept-Language": language}
    if via is not None:
        headers["X-Forwarded-For"] = via
    async with browser.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text(), response


async def test_a_flood_on_one_link_is_refused_and_other_visitors_get_in(
    start: Start, browser: Browser
) -> None:
    site = await start(web_trusted_proxy=True, web_rate_per_link=5, web_rate_per_address=100)
    campaign = await site.campaign()
    link = site.link(campaign)
    for n in range(5):  # one forwarded link opened from five places at once
        status, html, _ = await fetch(browser, link, via=f"203.0.113.{n}")
        assert status == 200, html

    status, html, response = await fetch(browser, link, via="203.0.113.99", language="fr")

    assert status == 429
    assert response.headers["Retry-After"] == "12"  # 5 a minute: one more every 12 s
    assert "Patientez 12 s, puis rechargez cette page." in html
    assert "Rien n&#39;est perdu" in html
    assert response.headers["Cache-Control"] == "no-store"  # security headers all the same
    # the next supporter, on their own link, is not held up by the flood
    status, html, _ = await fetch(browser, site.link(campaign, SACHA), via="203.0.113.99")
    assert status == 200, html
    site.clock.advance(timedelta(seconds=12))
    status, html, _ = await fetch(browser, link, via="203.0.113.99")
    assert status == 200, html


async def test_a_flood_from_one_address_is_refused_on_every_limited_route(
    start: Start, browser: Browser
) -> None:
    site = await start(web_rate_per_address=3)
    campaign = await site.campaign()
    for n in range(3):  # made-up links are counted too: they cost a signature check
        status, _, _ = await fetch(browser, f"{site.url}/pledge/made-up-{n}")
        assert status == 400

    refused = [
        await fetch(browser, site.link(campaign)),
        await fetch(browser, f"{site.url}/tap/made-up"),
        await fetch(browser, f"{site.url}/oauth/x/callback?state=s&code=c"),
        # without a trusted proxy the header is the client's own words: it changes nothing
        await fetch(browser, site.link(campaign), via="198.51.100.7"),
    ]
    async with browser.post(f"{site.link(campaign)}/x", data={"nonce": "n"}) as response:
        refused.append((response.status, await response.text(), response))

    assert [status for status, _, _ in refused] == [429] * 5
    assert all("Please wait 20 s, then reload this page." in html for _, html, _ in refused)
    assert (await fetch(browser, f"{site.url}/healthz"))[0] == 200  # not limited
    assert (await fetch(browser, f"{site.url}/static/style.css"))[0] == 200
    site.clock.advance(timedelta(seconds=20))
    assert (await fetch(browser, site.link(campaign)))[0] == 200


async def test_behind_a_trusted_proxy_the_last_hop_is_the_client(
    start: Start, browser: Browser
) -> None:
    site = await start(web_trusted_proxy=True, web_rate_per_address=2)
    url = f"{site.url}/tap/made-up"
    # what the client wrote comes first; the proxy appends the address it saw
    assert (await fetch(browser, url, via="10.9.9.1, 198.51.100.7"))[0] == 400
    assert (await fetch(browser, url, via="10.9.9.2, 198.51.100.7"))[0] == 400

    assert (await fetch(browser, url, via="10.9.9.3, 198.51.100.7"))[0] == 429
    assert (await fetch(browser, url, via="10.9.9.3, 198.51.100.8"))[0] == 400


async def test_memory_stays_bounded_under_a_flood_of_new_addresses(
    start: Start, browser: Browser
) -> None:
    site = await start(web_trusted_proxy=True, web_rate_max_keys=4)
    limits = site.runner.app[LIMITS_KEY]
    for n in range(40):
        await fetch(browser, f"{site.url}/tap/made-up-{n}", via=f"2001:db8:{n:x}::1")

    assert len(limits.by_address) <= 4
    assert len(limits.by_link) <= 4
    site.clock.advance(timedelta(minutes=1))  # every bucket refilled: all can go
    await fetch(browser, f"{site.url}/tap/made-up", via="192.0.2.1")
    assert len(limits.by_address) == 1 and len(limits.by_link) == 1
