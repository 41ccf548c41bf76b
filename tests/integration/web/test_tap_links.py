"""The short tap link over real HTTP: a redirect to the compose screen, or a readable refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from html import unescape
from urllib.parse import quote

import aiohttp

from adapters.networks.sandbox import SANDBOX
from adapters.networks.x import X
from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import Pledge, PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.services.tap_links import TAP_LINK_MARGIN
from tests.fakes.pledge_site import PledgeSite
from tests.integration.web.test_pledge_flow import Browser, get

SAM = UserRef("test", "501", "Sam", "en")
SACHA = UserRef("test", "502", "Sacha", "fr")
LONG = ("Sauvons la rivière 🌊 été, forêt, à côté ! " * 7)[:250] + " #SaveTheRiver"


async def tap_pledge(
    site: PledgeSite,
    *,
    status: CampaignStatus = CampaignStatus.LAUNCHED,
    network: Network = X,
    message: str | None = None,
    campaign_message: str = "Save our river! #SaveTheRiver https://example.org/river",
    person: UserRef = SAM,
) -> tuple[Campaign, Pledge, SocialAccount, str]:
    """A tap pledge of ``person`` in a campaign in ``status``, and its short link."""
    campaign = await site.campaign(
        status=status, networks=(network,), message=campaign_message, goal=0
    )
    pledge, account = await site.pledge(
        campaign, person, network=network, message=message, mode=DeliveryMode.TAP
    )
    return campaign, pledge, account, site.core.tap_links.url(campaign, pledge)


def compose_of(site: PledgeSite, text: str) -> str:
    """What the X adapter answers for the compose screen (its authorize host)."""
    return f"{site.x.url}/intent/post?text={quote(text, safe='')}"


async def taps(site: PledgeSite, campaign: Campaign) -> set[int]:
    """The ids of the campaign's pledges whose tap link was recorded as opened."""
    assert campaign.id is not None
    ids = [p.id or 0 for p in await site.repo.pledges_of_campaign(campaign.id)]
    opened = {
        i for i in ids if await site.repo.event_claimed(campaign.id, EventKind.TAP_OPENED, i)
    }
    assert await site.repo.count_events(campaign.id, EventKind.TAP_OPENED) == len(opened)
    return opened


async def test_the_link_redirects_to_the_prefilled_compose_screen(
    site: PledgeSite, browser: Browser
) -> None:
    campaign, pledge, _, link = await tap_pledge(site)
    assert link.startswith(f"{site.url}/tap/")

    status, _, response = await get(browser, link)

    assert status == 303
    assert response.headers["Location"] == compose_of(site, campaign.message)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert await taps(site, campaign) == {pledge.id}


async def test_the_link_works_again_and_counts_once(site: PledgeSite, browser: Browser) -> None:
    campaign, pledge, _, link = await tap_pledge(site, status=CampaignStatus.LAUNCHING)
    first, _, _ = await get(browser, link)
    site.clock.advance(timedelta(minutes=40))

    status, _, response = await get(browser, link)

    assert (first, status) == (303, 303)
    assert response.headers["Location"] == compose_of(site, campaign.message)
    assert await taps(site, campaign) == {pledge.id}


async def test_a_posted_pledge_can_still_open_its_link(site: PledgeSite, browser: Browser) -> None:
    """Someone who already posted and taps again is not refused."""
    campaign, pledge, _, link = await tap_pledge(site)
    posted = change_status(pledge, PledgeStatus.POSTED, at=site.clock.now())
    await site.repo.record_deliveries([posted])

    status, _, response = await get(browser, link)

    assert status == 303
    assert response.headers["Location"] == compose_of(site, campaign.message)


async def test_the_personalised_message_is_prefilled(site: PledgeSite, browser: Browser) -> None:
    mine = "In my own words: save our river! #SaveTheRiver https://example.org/river"
    _, _, _, link = await tap_pledge(site, message=mine)

    status, _, response = await get(browser, link)

    assert status == 303
    assert response.headers["Location"] == compose_of(site, mine)


async def test_a_long_message_has_a_short_link_and_a_long_redirect(
    site: PledgeSite, browser: Browser
) -> None:
    _, _, _, link = await tap_pledge(site, campaign_message=LONG)

    status, _, response = await get(browser, link)

    assert len(link) < 120
    assert status == 303
    assert response.headers["Location"] == compose_of(site, LONG)
    assert len(response.headers["Location"]) > 512


async def test_a_head_request_redirects_without_counting(
    site: PledgeSite, browser: Browser
) -> None:
    """Link previews ask with HEAD: that is not a supporter opening the link."""
    campaign, _, _, link = await tap_pledge(site)

    async with browser.head(link, allow_redirects=False) as response:
        assert response.status == 303

    assert await taps(site, campaign) == set()


async def test_invalid_link(site: PledgeSite, browser: Browser) -> None:
    status, html, response = await get(browser, f"{site.url}/tap/not-a-real-token")

    assert status == 400
    assert "This posting link is not valid" in html
    assert "go back to your chat" in html
    assert "Location" not in response.headers


async def test_tampered_link(site: PledgeSite, browser: Browser) -> None:
    """Another pledge's payload under this link's signature."""
    campaign, pledge, _, link = await tap_pledge(site)
    signature = link.rsplit(".", 1)[1]
    other = site.core.tap_links.issue(campaign, replace(pledge, id=999))
    forged = f"{site.url}/tap/{other.split('.')[0]}.{signature}"

    status, html, _ = await get(browser, forged)

    assert status == 400
    assert "not valid" in html
    assert await taps(site, campaign) == set()


async def test_expired_link(site: PledgeSite, browser: Browser) -> None:
    campaign, _, _, link = await tap_pledge(site)
    readback = timedelta(minutes=site.core.settings.tap_readback_minutes)
    site.clock.set(campaign.launch_at + readback + TAP_LINK_MARGIN)

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "This posting link has expired" in html
    assert await taps(site, campaign) == set()


async def test_withdrawn_pledge(site: PledgeSite, browser: Browser) -> None:
    campaign, pledge, _, link = await tap_pledge(site)
    await site.repo.update_pledge(
        change_status(pledge, PledgeStatus.WITHDRAWN, at=site.clock.now())
    )

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "You withdrew this pledge" in html
    assert await taps(site, campaign) == set()


async def test_erased_account(site: PledgeSite, browser: Browser) -> None:
    campaign, _, _, link = await tap_pledge(site)
    assert await site.repo.erase_supporter(SAM) == 1

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "This pledge no longer exists" in html
    assert await taps(site, campaign) == set()


async def test_a_campaign_that_did_not_launch(site: PledgeSite, browser: Browser) -> None:
    campaign, _, _, link = await tap_pledge(site, status=CampaignStatus.FAILED)

    status, html, _ = await get(browser, link)

    assert status == 410
    assert "“Save the river” did not launch" in html
    assert await taps(site, campaign) == set()


async def test_a_campaign_not_launched_yet(site: PledgeSite, browser: Browser) -> None:
    campaign, _, _, link = await tap_pledge(site, status=CampaignStatus.LIVE)

    status, html, _ = await get(browser, link)

    assert status == 409
    assert "has not launched yet" in html
    assert await taps(site, campaign) == set()


async def test_a_network_this_chorus_does_not_offer(site: PledgeSite, browser: Browser) -> None:
    campaign, _, _, link = await tap_pledge(site, network=SANDBOX)

    status, html, _ = await get(browser, link)

    assert status == 503
    assert "is not available on this Chorus" in html
    assert await taps(site, campaign) == set()


async def test_refusals_are_in_the_visitors_language(site: PledgeSite) -> None:
    _, pledge, _, link = await tap_pledge(site)
    await site.repo.update_pledge(
        change_status(pledge, PledgeStatus.WITHDRAWN, at=site.clock.now())
    )
    headers = {"Accept-Language": "fr-FR,fr;q=0.9"}
    async with aiohttp.ClientSession(headers=headers) as french:
        status, html, _ = await get(french, link)
        invalid_status, invalid, _ = await get(french, f"{site.url}/tap/not-a-real-token")

    assert status == 410
    assert "Vous avez retiré cet engagement" in html
    assert '<html lang="fr">' in html
    assert invalid_status == 400
    assert "Ce lien de publication n'est pas valide" in unescape(invalid)


async def test_without_a_language_header_the_supporters_language_is_used(
    site: PledgeSite,
) -> None:
    _, _, _, link = await tap_pledge(site, status=CampaignStatus.CANCELLED, person=SACHA)
    async with aiohttp.ClientSession(skip_auto_headers=["Accept-Language"]) as bare:
        status, html, _ = await get(bare, link)

    assert status == 410
    assert "La campagne « Save the river » n'a pas été lancée" in unescape(html)


async def test_the_redirect_follows_the_stored_pledge(site: PledgeSite, browser: Browser) -> None:
    """The redirect is built from what is stored now, not from what the token carried."""
    _, pledge, _, link = await tap_pledge(site)
    await site.repo.update_pledge(replace(pledge, message="Now in my words #SaveTheRiver"))

    status, _, response = await get(browser, link)

    assert status == 303
    assert response.headers["Location"] == compose_of(site, "Now in my words #SaveTheRiver")
