"""Whose link it is, whose account it is, and what becomes of tokens a refused pledge fetched.

A pledge link is personal: the page says whom it was made for, and linking through it
never takes an account another person linked. Every callback that ends refused or failed
revokes the tokens it fetched at the network's wire fake and stores none of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.refs import UserRef
from bot.services.pledges import Forgotten
from tests.fakes.pledge_site import ORGANISER, SUPPORTER, PledgeSite
from tests.integration.web.test_pledge_flow import Browser, get, pledge, submit
from tests.integration.web.test_refusals import finish

VICTIM = UserRef("telegram", "777", "Vicky Tim", "en")
NETWORKS = ("x", "mastodon")


@pytest.fixture
async def other() -> AsyncIterator[Browser]:
    """A second browser, with cookies of its own."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def fields(site: PledgeSite, network: str) -> dict[str, str]:
    return {"instance": site.mastodon.host} if network == "mastodon" else {}


def authorise_as(site: PledgeSite, network: str, username: str) -> None:
    if network == "x":
        site.x.next_user = username
    else:
        site.mastodon.next_user = username


def live_tokens(site: PledgeSite, network: str) -> set[str]:
    """Every token the network would still accept."""
    if network == "x":
        return set(site.x.access_tokens) | set(site.x.refresh_tokens)
    return set(site.mastodon.tokens)


def revoked(site: PledgeSite, network: str) -> list[str]:
    return site.x.revoked if network == "x" else site.mastodon.revoked


async def stored_tokens(site: PledgeSite) -> set[str]:
    found = set()
    for person in (SUPPORTER, VICTIM):
        for account in await site.repo.accounts_of(person):
            found |= {account.tokens.access_token, account.tokens.refresh_token or ""}
    return found - {""}


async def start(site: PledgeSite, session: Browser, link: str, network: str) -> str:
    """Open the page and press the network's button: the authorisation address."""
    status, html, response = await submit(session, link, network, **fields(site, network))
    assert status == 303, html
    return str(response.headers["Location"])


async def assert_refused_and_revoked(
    site: PledgeSite,
    network: str,
    session: Browser,
    authorize: str,
    status: int,
    words: str,
) -> None:
    """Finish the round trip and check the refusal kept no token and left none alive."""
    alive, stored, revoked_before = (
        live_tokens(site, network),
        await stored_tokens(site),
        len(revoked(site, network)),
    )

    answer, html, _ = await finish(session, authorize)

    assert (answer, words in html) == (status, True), html
    fetched = revoked(site, network)[revoked_before:]
    assert fetched, "the tokens fetched for the refused pledge were not revoked"
    assert not set(fetched) & alive  # only the new ones: the stored tokens still work
    assert live_tokens(site, network) == alive
    assert await stored_tokens(site) == stored


# the link's owner on the page ------------------------------------------------------------


async def test_the_page_says_whose_link_it_is(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    link = site.link(campaign, replace(VICTIM, name="Vicky <Tim>"))

    status, html, _ = await get(browser, link)

    assert status == 200
    assert "This link was made for Vicky &lt;Tim&gt; on Telegram." in html
    assert "Not you? Pledge links are personal" in html

    status, html, _ = await submit(browser, link, "x", message="No hashtag, no link")
    assert status == 400  # the refused form says it too
    assert "This link was made for Vicky &lt;Tim&gt; on Telegram." in html


async def test_the_page_says_whose_link_it_is_in_french(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    async with browser.get(
        site.link(campaign, VICTIM), headers={"Accept-Language": "fr"}
    ) as response:
        html = await response.text()
    assert "Ce lien a été créé pour Vicky Tim sur Telegram." in html


async def test_a_platform_without_a_display_name_shows_its_id(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    _, html, _ = await get(browser, site.link(campaign))  # SUPPORTER is on platform "test"
    assert "This link was made for Sam on test." in html


# the attack ------------------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
async def test_a_link_sent_to_someone_else_never_takes_their_account(
    site: PledgeSite, browser: Browser, network: str
) -> None:
    campaign = await site.campaign()
    authorise_as(site, network, "vicky")
    status, html, _ = await pledge(
        browser, site.link(campaign, VICTIM), network, **fields(site, network)
    )
    assert status == 200, html
    [victims] = await site.repo.accounts_of(VICTIM)
    # the attacker (SUPPORTER) sends their own pledge link; the victim opens it and authorises
    authorize = await start(site, browser, site.link(campaign, SUPPORTER), network)

    await assert_refused_and_revoked(
        site, network, browser, authorize, 409, "is already linked to Chorus by someone else"
    )

    assert await site.repo.accounts_of(VICTIM) == [victims]
    assert await site.repo.accounts_of(SUPPORTER) == []
    assert await site.repo.pledges_of_supporter(SUPPORTER) == []
    # the victim's /forget still finds the account, erases it and revokes its token
    assert await site.core.pledges.forget(VICTIM) == Forgotten(accounts=1, pledges=1)
    assert victims.tokens.access_token in revoked(site, network)
    found = await site.repo.find_account(victims.network, victims.instance, victims.remote_id)
    assert found is None


# every other refused callback ----------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
async def test_link_used_meanwhile(
    site: PledgeSite, browser: Browser, other: Browser, network: str
) -> None:
    campaign = await site.campaign()
    link = site.link(campaign)
    first = await start(site, browser, link, network)
    second = await start(site, other, link, network)
    status, _, _ = await finish(browser, first)
    assert status == 200
    authorise_as(site, network, "carol")

    await assert_refused_and_revoked(site, network, other, second, 410, "already used")


@pytest.mark.parametrize("network", NETWORKS)
async def test_campaign_closed_meanwhile(site: PledgeSite, browser: Browser, network: str) -> None:
    campaign = await site.campaign()
    authorize = await start(site, browser, site.link(campaign), network)
    await site.core.campaigns.cancel(campaign.ref, ORGANISER)

    await assert_refused_and_revoked(
        site, network, browser, authorize, 409, "is not open for pledges"
    )


@pytest.mark.parametrize("network", NETWORKS)
async def test_account_already_pledged(site: PledgeSite, browser: Browser, network: str) -> None:
    campaign = await site.campaign()
    status, _, _ = await pledge(browser, site.link(campaign), network, **fields(site, network))
    assert status == 200
    authorize = await start(site, browser, site.link(campaign), network)

    await assert_refused_and_revoked(site, network, browser, authorize, 409, "already support")


@pytest.mark.parametrize("network", NETWORKS)
async def test_network_dropped_from_the_campaign_meanwhile(
    site: PledgeSite, browser: Browser, network: str
) -> None:
    campaign = await site.campaign()
    authorize = await start(site, browser, site.link(campaign), network)
    others = tuple(n for n in (MASTODON, X) if n != network)
    await site.repo.update_campaign(replace(campaign, networks=others))

    await assert_refused_and_revoked(
        site, network, browser, authorize, 404, "This campaign does not post on"
    )


@pytest.mark.parametrize("network", NETWORKS)
async def test_message_no_longer_valid_meanwhile(
    site: PledgeSite, browser: Browser, network: str
) -> None:
    campaign = await site.campaign()
    mine = "My own words #SaveTheRiver https://example.org/river"
    status, html, response = await submit(
        browser, site.link(campaign), network, message=mine, **fields(site, network)
    )
    assert status == 303, html
    changed = "Save it #SaveTheRiver #Now https://example.org/river"
    await site.repo.update_campaign(replace(campaign, message=changed))

    await assert_refused_and_revoked(
        site, network, browser, response.headers["Location"], 400, "#now"
    )


@pytest.mark.parametrize(
    ("network", "path", "words"),
    [
        ("x", "/2/users/me", "We could not reach X just now"),
        ("mastodon", "/api/v1/accounts/verify_credentials", "We could not reach Mastodon"),
    ],
)
async def test_profile_unreadable_after_the_tokens_came(
    site: PledgeSite, browser: Browser, network: str, path: str, words: str
) -> None:
    campaign = await site.campaign()
    authorize = await start(site, browser, site.link(campaign), network)
    (site.x if network == "x" else site.mastodon).fail(503, path=path)

    await assert_refused_and_revoked(site, network, browser, authorize, 502, words)

    assert campaign.id is not None
    assert await site.repo.pledges_of_campaign(campaign.id) == []
