"""Variants over real HTTP: the pledge page offers the wordings (JS-free radios), the
choice (or the next in turn for the supporter's language) is stored with the pledge, the
blast posts each pledge's wording at the X and Mastodon fakes, and the report counts
the posts per wording."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.domain.variants import Variant
from bot.i18n import render
from bot.ports import Repository
from tests.fakes.pledge_site import ORGANISER, SUPPORTER, PledgeSite, start_site
from tests.integration.web.test_pledge_flow import get, pledge, submit
from tests.integration.web.test_tap_links import compose_of

Browser = aiohttp.ClientSession
MESSAGE = "Save our river! #SaveTheRiver https://example.org/river"
OTHER = "The river is ours to save #SaveTheRiver https://example.org/river"
FRENCH = "Sauvons notre rivière #SaveTheRiver https://example.org/river"
FLEUR = UserRef("test", "502", "Fleur", "fr")
CHECKED = re.compile(r'name="variant" value="(\d)" checked')


@pytest.fixture
async def auto_site(repo: Repository) -> AsyncIterator[PledgeSite]:
    """The pledge site with X posting for supporters too, so both fakes receive posts."""
    running = await start_site(repo, x_delivery="auto")
    try:
        yield running
    finally:
        await running.close()


async def with_variants(site: PledgeSite) -> Campaign:
    campaign = await site.campaign(message=MESSAGE, goal=0)
    variants = (Variant(OTHER), Variant(FRENCH, "fr"))
    return await site.repo.update_campaign(replace(campaign, variants=variants))


async def test_the_page_offers_every_wording_and_suggests_one(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await with_variants(site)
    status, html, _ = await get(browser, site.link(campaign))
    assert status == 200, html
    texts = [html_lib.unescape(m).strip() for m in re.findall(r"<span>([^<]*)", html)]
    assert [x for x in texts if "#SaveTheRiver" in x] == [MESSAGE, OTHER, FRENCH]
    assert CHECKED.findall(html) == ["0"]
    assert render(t("variants.web_choose"), "en") in html
    assert 'name="message" rows="5" maxlength="2000"' in html
    assert re.search(r"data-count-target=\"message-count\"></textarea>", html)  # empty box
    # a French supporter is offered the French wording first
    status, html, _ = await get(browser, site.link(campaign, FLEUR))
    assert CHECKED.findall(html) == ["2"]


async def test_a_page_without_variants_shows_no_choice(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    status, html, _ = await get(browser, site.link(campaign))
    assert status == 200 and 'name="variant"' not in html


@pytest.mark.parametrize("sent", ["3", "9", "-1", "abc", "1e0", "٣", "0" * 9])
async def test_a_wording_that_is_not_offered_is_refused_with_a_clear_message(
    site: PledgeSite, browser: Browser, sent: str
) -> None:
    campaign = await with_variants(site)
    status, html, _ = await submit(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.url, variant=sent
    )
    assert status == 400, html
    assert render(t("variants.web_unknown"), "en") in html_lib.unescape(html)
    assert site.mastodon.seen("POST", "/oauth/token") == []
    assert await site.repo.pledges_of_campaign(campaign.id or 0) == []


async def test_the_chosen_wording_is_recorded_and_shown(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await with_variants(site)
    status, html, _ = await pledge(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.url, variant="1"
    )
    assert status == 200, html
    assert OTHER in html_lib.unescape(html)  # the thank-you page shows what will be posted
    [row] = await site.repo.pledges_of_campaign(campaign.id or 0)
    assert (row.variant, row.message) == (1, None)


async def test_own_words_win_over_the_wordings(site: PledgeSite, browser: Browser) -> None:
    campaign = await with_variants(site)
    own = "My own take #SaveTheRiver https://example.org/river"
    status, html, _ = await pledge(
        browser,
        site.link(campaign),
        "mastodon",
        instance=site.mastodon.url,
        variant="2",
        message=own,
    )
    assert status == 200, html
    [row] = await site.repo.pledges_of_campaign(campaign.id or 0)
    assert (row.variant, row.message) == (None, own)


async def test_the_blast_posts_each_pledges_wording_and_the_report_counts_them(
    auto_site: PledgeSite, browser: Browser
) -> None:
    site = auto_site
    campaign = await with_variants(site)
    # Sam picks the second wording for X; Fleur, French, takes the next in turn: hers
    status, html, _ = await pledge(browser, site.link(campaign), "x", variant="1")
    assert status == 200, html
    browser.cookie_jar.clear()
    status, html, _ = await pledge(
        browser, site.link(campaign, FLEUR), "mastodon", instance=site.mastodon.url
    )
    assert status == 200, html
    rows = await site.repo.pledges_of_campaign(campaign.id or 0)
    assert {(r.supporter.id, r.network, r.variant) for r in rows} == {
        (SUPPORTER.id, X, 1),
        (FLEUR.id, MASTODON, 2),
    }

    site.clock.set(campaign.launch_at)
    launched = await site.core.blast.launch(campaign)

    assert launched.status is CampaignStatus.LAUNCHED
    assert [t["text"] for u in site.x.users.values() for t in u.tweets] == [OTHER]
    statuses = [s["content"] for u in site.mastodon.users.values() for s in u.statuses]
    assert statuses == [f"<p>{html_lib.escape(FRENCH, quote=False)}</p>"]

    await site.core.blast.report(launched)
    [report] = [s for s in site.front.to(f"user:{ORGANISER.id}") if "blast.report_title" in s.keys]
    assert "variants.report_heading" in report.keys
    lines = [line for line in report.text.splitlines() if line.startswith("Wording ")]
    assert lines == ["Wording 1: 0 posts", "Wording 2: 1 post", "Wording 3: 1 post"]


async def test_a_tap_link_opens_the_compose_screen_with_the_pledges_wording(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await with_variants(site)
    campaign = await site.repo.update_campaign(
        replace(campaign, status=CampaignStatus.LAUNCHED, networks=(X,))
    )
    chosen, _ = await site.pledge(campaign, FLEUR, network=X, mode=DeliveryMode.TAP)
    chosen = await site.repo.update_pledge(replace(chosen, variant=2))

    status, _, response = await get(browser, site.core.tap_links.url(campaign, chosen))

    assert status == 303
    assert response.headers["Location"] == compose_of(site, FRENCH)
