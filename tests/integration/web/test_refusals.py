"""Every way a pledge can be refused gives a readable page, the right status, and loses nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
from yarl import URL

from adapters.networks.mastodon import MASTODON
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import UserRef
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.pledge_site import PledgeSite, free_port, nonce_of
from tests.integration.web.test_pledge_flow import Browser, get, pledge, submit


async def no_pledges(site: PledgeSite, campaign_id: int | None) -> bool:
    assert campaign_id is not None
    return await site.repo.pledges_of_campaign(campaign_id) == []


async def test_invalid_link(site: PledgeSite, browser: Browser) -> None:
    status, html, _ = await get(browser, f"{site.url}/pledge/not-a-real-token")

    assert status == 400
    assert "This pledge link is not valid" in html
    assert "press Support on the campaign" in html  # the way back


async def test_tampered_link(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)

    status, html, _ = await get(browser, link[:-3] + "abc")

    assert status == 400
    assert "not valid" in html


async def test_expired_link(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    site.clock.advance(timedelta(days=1, minutes=1))

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "This pledge link has expired" in html


async def test_link_expiring_during_the_round_trip(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    site.clock.advance(timedelta(hours=23, minutes=59))
    status, _, response = await submit(browser, link, "x")
    assert status == 303
    site.clock.advance(timedelta(minutes=2))  # the link expires, the OAuth state does not
    _, _, response = await get(browser, response.headers["Location"])

    status, html, _ = await get(browser, response.headers["Location"])

    assert status == 410
    assert "expired" in html
    assert await no_pledges(site, campaign.id)


async def test_reused_link(site: PledgeSite, browser: Browser) -> None:
    """A forwarded link opened in two browsers: the second callback finds it used."""
    campaign = await site.campaign()
    link = site.link(campaign)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        status, html, first = await submit(browser, link, "x")
        assert status == 303, html
        status, html, second = await submit(other, link, "x")
        assert status == 303, html
        status, _, _ = await finish(browser, first.headers["Location"])
        assert status == 200
        site.x.next_user = "carol"  # a second account through the same link

        status, html, _ = await finish(other, second.headers["Location"])

    assert status == 410
    assert "already used" in html
    assert campaign.id is not None
    assert len(await site.repo.pledges_of_campaign(campaign.id)) == 1


async def finish(browser: Browser, authorize: str) -> tuple[int, str, Any]:
    """Authorise at the network and follow the callback."""
    status, html, response = await get(browser, authorize)
    assert status == 302, html
    return await get(browser, response.headers["Location"])


async def test_used_link_is_refused_on_the_page_before_any_authorisation(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    status, _, _ = await pledge(browser, link, "x")
    assert status == 200
    requests_before = len(site.x.requests)

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "already used" in html
    assert len(site.x.requests) == requests_before  # no second trip to the network


async def test_unknown_campaign(site: PledgeSite, browser: Browser) -> None:
    link = site.core.links.issue("ZZZZZZ", UserRef("test", "9"))

    status, html, _ = await get(browser, f"{site.url}/pledge/{link}")

    assert status == 404
    assert "No campaign ZZZZZZ found" in html


async def test_launched_campaign(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(status=CampaignStatus.LAUNCHED)

    status, html, _ = await get(browser, site.link(campaign))

    assert status == 410
    assert "has already launched" in html


async def test_campaign_awaiting_moderation(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(status=CampaignStatus.PENDING_REVIEW)

    status, html, _ = await get(browser, site.link(campaign))

    assert status == 409
    assert "is not open for pledges" in html


async def test_denied_authorisation(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    site.x.deny_next = True

    status, html, trip = await pledge(browser, link, "x")

    assert "error=access_denied" in trip["callback"]
    assert status == 403
    assert "You did not authorise Chorus" in html
    assert f'href="/pledge/{link.rsplit("/", 1)[1]}"' in html  # a way back
    assert await no_pledges(site, campaign.id)
    assert site.x.seen("POST", "/2/oauth2/token") == []


async def test_instance_that_is_not_mastodon(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    async with FakeMastodon(is_mastodon=False) as blog:
        status, html, _ = await submit(browser, site.link(campaign), "mastodon", instance=blog.url)
        assert blog.seen("POST", "/api/v1/apps") == []

    assert status == 400
    assert "does not answer like a Mastodon server" in html
    assert f'value="{blog.url}"' in html  # the typed instance is kept
    assert 'id="instance-error"' in html


async def test_instance_missing(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    status, html, _ = await submit(browser, site.link(campaign), "mastodon")

    assert status == 400
    assert "Type your Mastodon instance" in html


async def test_instance_garbage(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    status, html, _ = await submit(
        browser, site.link(campaign), "mastodon", instance="not an instance!"
    )

    assert status == 400
    assert "does not look like a Mastodon instance address" in html


async def test_instance_unreachable(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()

    status, html, _ = await submit(
        browser, site.link(campaign), "mastodon", instance=f"127.0.0.1:{free_port()}"
    )

    assert status == 502
    assert "We could not reach 127.0.0.1" in html


async def test_network_down_at_callback(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    site.x.fail(503, path="/2/oauth2/token")

    status, html, _ = await pledge(browser, link, "x")

    assert status == 502
    assert "We could not reach X just now" in html
    assert "Back to the pledge page" in html
    assert await no_pledges(site, campaign.id)


async def test_network_down_reading_the_profile(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    site.mastodon.fail(500, path="/api/v1/accounts/verify_credentials")

    status, html, _ = await pledge(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.host
    )

    assert status == 502
    assert "We could not reach Mastodon just now" in html
    assert await no_pledges(site, campaign.id)


async def test_network_the_campaign_does_not_use(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(networks=(MASTODON,))
    link = site.link(campaign)

    status, html, _ = await get(browser, link)
    assert "Pledge with X" not in html
    status, html, _ = await submit(browser, link, "x")

    assert status == 404
    assert "cannot be pledged with x here" in html
    status, html, _ = await submit(browser, link, "myspace")
    assert status == 404


async def test_form_without_nonce(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)

    async with (
        aiohttp.ClientSession() as stranger,  # no cookie from the page
        stranger.post(
            f"{link}/x", data={"nonce": "forged-nonce-forged-nonce"}, allow_redirects=False
        ) as response,
    ):
        status, html = response.status, await response.text()

    assert status == 403
    assert "This form has expired" in html
    assert site.x.requests == []


async def test_form_from_another_site(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    _, html, _ = await get(browser, link)

    async with browser.post(
        f"{link}/x",
        data={"nonce": nonce_of(html)},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as response:
        assert response.status == 403


async def test_callback_in_another_browser(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    _, _, response = await submit(browser, site.link(campaign), "x")
    _, _, response = await get(browser, response.headers["Location"])
    callback = response.headers["Location"]

    async with (
        aiohttp.ClientSession() as other,
        other.get(callback, allow_redirects=False) as answer,
    ):
        status, html = answer.status, await answer.text()

    assert status == 403
    assert "started in another browser" in html
    assert await no_pledges(site, campaign.id)


async def test_callback_replayed(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    _, _, response = await submit(browser, site.link(campaign), "x")
    _, _, response = await get(browser, response.headers["Location"])
    callback = response.headers["Location"]
    status, _, _ = await get(browser, callback)
    assert status == 200
    browser.cookie_jar.update_cookies(
        {"chorus_oauth": callback.split("state=")[1]}, URL(f"{site.url}/oauth/")
    )

    status, html, _ = await get(browser, callback)

    assert status == 400
    assert "expired or was already used" in html


async def test_callback_with_unknown_state(site: PledgeSite, browser: Browser) -> None:
    status, html, _ = await get(browser, f"{site.url}/oauth/x/callback?code=abc&state=")

    assert status == 400
    assert "Please start again" in html


async def test_wrong_verifier_is_refused_by_the_network(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    _, _, response = await submit(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.host
    )
    _, _, response = await get(browser, response.headers["Location"])
    code = response.headers["Location"].split("code=")[1].split("&")[0]
    pending = next(iter(site.mastodon.codes.values()))
    pending.challenge = "a-challenge-the-verifier-will-not-match"
    assert code in site.mastodon.codes

    status, html, _ = await get(browser, response.headers["Location"])

    assert status == 400
    assert "did not accept the authorisation" in html
    assert await no_pledges(site, campaign.id)


async def test_already_pledged_account(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    status, _, _ = await pledge(browser, site.link(campaign), "x")
    assert status == 200

    status, html, _ = await pledge(browser, site.link(campaign), "x")

    assert status == 409
    assert "You already support" in html
