"""The pledge round trip over real HTTP: page → form → network's OAuth → callback → pledge."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.account import FOLLOWERS_MAX
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from tests.fakes.pledge_site import SUPPORTER, PledgeSite, nonce_of

Browser = aiohttp.ClientSession


async def get(browser: Browser, url: str) -> tuple[int, str, aiohttp.ClientResponse]:
    async with browser.get(url, allow_redirects=False) as response:
        return response.status, await response.text(), response


async def submit(
    browser: Browser, link: str, network: str, **fields: str
) -> tuple[int, str, aiohttp.ClientResponse]:
    """Open the pledge page, then post its form with ``fields`` to ``network``'s button."""
    status, html, _ = await get(browser, link)
    assert status == 200, html
    form = {"nonce": nonce_of(html), "message": "", "instance": "", "tz": "", **fields}
    async with browser.post(f"{link}/{network}", data=form, allow_redirects=False) as response:
        return response.status, await response.text(), response


async def pledge(
    browser: Browser, link: str, network: str, **fields: str
) -> tuple[int, str, dict[str, Any]]:
    """The whole round trip; returns the final page and what happened on the way."""
    status, html, response = await submit(browser, link, network, **fields)
    assert status == 303, html
    authorize = response.headers["Location"]
    status, html, response = await get(browser, authorize)
    assert status == 302, html
    callback = response.headers["Location"]
    status, html, _ = await get(browser, callback)
    return status, html, {"authorize": authorize, "callback": callback}


async def test_mastodon_pledge_end_to_end(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)

    status, html, trip = await pledge(browser, link, "mastodon", instance=site.mastodon.url)

    assert status == 200, html
    assert "Thank you, @bob@127.0.0.1" in html
    assert "We will post the message for you" in html  # Mastodon delivers automatically
    assert f"/unpledge {campaign.ref}" in html
    assert campaign.id is not None
    [row] = await site.repo.pledges_of_campaign(campaign.id)
    assert row.supporter.same_person(SUPPORTER)
    assert row.network == MASTODON
    assert row.status is PledgeStatus.PLEDGED
    assert row.delivery_mode is DeliveryMode.AUTO
    account = await site.repo.get_account(row.account_id)
    assert account is not None
    assert account.instance == site.mastodon.host
    assert account.handle == "bob"
    assert account.followers == 7
    assert site.mastodon.tokens[account.tokens.access_token] == account.remote_id
    # PKCE: the challenge went out in the URL, the verifier only server to server.
    query = parse_qs(urlsplit(trip["authorize"]).query)
    assert query["code_challenge_method"] == ["S256"]
    [token_call] = site.mastodon.seen("POST", "/oauth/token")
    verifier = parse_qs(token_call.body)["code_verifier"][0]
    assert verifier not in trip["authorize"] and verifier not in trip["callback"]
    assert all(verifier not in c.value for c in browser.cookie_jar)
    # the chat bot confirmed the pledge to the supporter
    assert "supporter.pledged" in site.front.keys_to(f"user:{SUPPORTER.id}")


async def test_a_mastodon_account_reporting_absurd_followers_is_stored_clamped(
    site: PledgeSite, browser: Browser
) -> None:
    """A self-hosted instance may answer anything; the figures of the campaign survive it."""
    campaign = await site.campaign()
    assert campaign.id is not None
    for number, name in enumerate(("bob", "eve"), 601):
        site.mastodon.add_user(name, followers=2**63 - 1)
        site.mastodon.next_user = name
        person = UserRef("test", str(number), name.title(), "en")
        status, html, _ = await pledge(
            browser, site.link(campaign, person), "mastodon", instance=site.mastodon.url
        )
        assert status == 200, html
    for row in await site.repo.pledges_of_campaign(campaign.id):
        account = await site.repo.get_account(row.account_id)
        assert account is not None and account.followers == FOLLOWERS_MAX
    stats = await site.repo.campaign_stats(campaign.id)
    assert (stats.supporters, stats.reach) == (2, 2 * FOLLOWERS_MAX)
    status, html, _ = await get(browser, site.link(campaign))  # the page shows the figures
    assert status == 200, html


async def test_x_pledge_offers_one_tap_delivery(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    status, html, trip = await pledge(browser, site.link(campaign), "x")

    assert status == 200, html
    assert "Thank you, @alice!" in html
    assert "one-tap button in your chat" in html
    scopes = parse_qs(urlsplit(trip["authorize"]).query)["scope"][0].split()
    assert "tweet.write" not in scopes  # tap mode needs no write access
    assert {"tweet.read", "users.read", "offline.access"} <= set(scopes)
    assert campaign.id is not None
    [row] = await site.repo.pledges_of_campaign(campaign.id)
    assert row.network == X
    assert row.delivery_mode is DeliveryMode.TAP


async def test_personalised_message_is_validated_and_kept(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    mine = "I care about this! #SaveTheRiver https://example.org/river"

    status, html, _ = await pledge(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.host, message=mine
    )

    assert status == 200, html
    assert "I care about this!" in html
    assert campaign.id is not None
    [row] = await site.repo.pledges_of_campaign(campaign.id)
    assert row.message == mine


async def test_message_missing_a_hashtag_is_refused_and_kept(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    typed = "Just save it <b>now</b> https://example.org/river"

    status, html, _ = await submit(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.host, message=typed
    )

    assert status == 400
    assert "must keep the campaign&#39;s hashtags: #savetheriver" in html
    assert "Just save it &lt;b&gt;now&lt;/b&gt;" in html  # kept, and escaped
    assert 'aria-invalid="true"' in html
    assert site.mastodon.requests == []  # refused before reaching the network


async def test_message_too_long_for_x_is_refused(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    typed = "#SaveTheRiver https://example.org/river " + "long " * 60

    status, html, _ = await submit(browser, site.link(campaign), "x", message=typed)

    assert status == 400
    assert "whose limit is 280" in html


async def test_pledge_page_shows_campaign_escaped_with_progress(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(title="<script>alert(1)</script> river", goal=4)

    status, html, response = await get(browser, site.link(campaign))

    assert status == 200
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; river" in html
    assert '<html lang="en">' in html
    assert "0 of 4 supporters" in html
    assert '<progress max="4" value="0">' in html
    assert "2030-01-17 13:00 CET" in html  # DEFAULT_TIMEZONE=Europe/Paris without JS
    assert 'formaction="/pledge/' in html and '<label for="instance-mastodon">' in html
    assert "Content-Security-Policy" in response.headers
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_french_from_accept_language(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    async with browser.get(
        site.link(campaign), headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    ) as response:
        html = await response.text()

    assert '<html lang="fr">' in html
    assert "M&#39;engager avec Mastodon" in html


async def test_security_headers_and_health(site: PledgeSite, browser: Browser) -> None:
    status, body, response = await get(browser, f"{site.url}/healthz")

    assert (status, body) == (200, "ok")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    status, html, response = await get(browser, f"{site.url}/nowhere")
    assert status == 404
    assert "There is no page at this address" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_state_cookie_is_http_only_and_lax(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    status, _, response = await submit(browser, site.link(campaign), "x")

    assert status == 303
    cookie = response.headers["Set-Cookie"]
    assert "chorus_oauth=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/oauth/" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http here
