"""The pledge page counts supporters and followers in the reader's language's plural forms."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from tests.fakes.pledge_site import PledgeSite

Browser = aiohttp.ClientSession


async def page(browser: Browser, url: str, language: str) -> str:
    async with browser.get(url, headers={"Accept-Language": language}) as response:
        assert response.status == 200
        return await response.text()


@pytest.mark.parametrize(
    ("goal", "language", "shown"),
    [
        (1, "en", "0 of 1 supporter<"),
        (2, "en", "0 of 2 supporters<"),
        (1, "fr", "0 soutien sur 1<"),
        (0, "en", "0 supporters so far (no minimum)"),
        (0, "fr", "0 soutien pour l&#39;instant (aucun minimum)"),
    ],
)
async def test_progress_agrees_with_its_number(
    site: PledgeSite, browser: Browser, goal: int, language: str, shown: str
) -> None:
    campaign = await site.campaign(goal=goal)
    html = await page(browser, site.link(campaign), language)
    assert shown in html


async def test_reach_in_followers_agrees_with_its_number(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(goal=0)
    assert "Combined reach: 0 followers" in await page(browser, site.link(campaign), "en")
    assert "Audience cumulée : 0 abonné<" in await page(browser, site.link(campaign), "fr")


async def pledged(site: PledgeSite, campaign: Campaign, number: int, followers: int) -> None:
    who = UserRef("test", f"p{number}", f"Person {number}")
    ticket = site.core.links.read(site.core.links.issue(campaign.ref, who))
    profile = LinkedProfile(
        network=MASTODON,
        instance="mastodon.example",
        remote_id=f"remote-{number}",
        handle=f"person{number}",
        followers=followers,
        tokens=TokenSet(access_token=f"test-token-not-real-{number}"),
    )
    await site.core.pledges.record(ticket, profile)


async def test_page_counts_one_and_two_supporters(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(goal=0)
    await pledged(site, campaign, 1, followers=1)
    english = await page(browser, site.link(campaign), "en")
    french = await page(browser, site.link(campaign), "fr")
    assert "1 supporter so far (no minimum)" in english and "reach: 1 follower<" in english
    assert "1 soutien pour l&#39;instant" in french and "cumulée : 1 abonné<" in french
    await pledged(site, campaign, 2, followers=1)
    english = await page(browser, site.link(campaign), "en")
    french = await page(browser, site.link(campaign), "fr")
    assert "2 supporters so far (no minimum)" in english and "reach: 2 followers<" in english
    assert "2 soutiens pour l&#39;instant" in french and "cumulée : 2 abonnés<" in french
