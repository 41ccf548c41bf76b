"""The public campaign page ``/c/{REF}`` over real HTTP: who sees it, in which language,
what it says before and after the launch, its link-preview tags and its share hops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus
from bot.ports import Repository
from bot.web.security import SECURITY_HEADERS
from tests.fakes.pledge_site import PledgeSite, start_site

BOT = "ChorusTestBot"


class Tags(HTMLParser):
    """The page's ``<meta>`` tags (by property or name) and its links' addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[str] = []
        self.svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and "content" in values:
            self.meta[values.get("property") or values.get("name", "")] = values["content"]
        elif tag == "a" and "href" in values:
            self.links.append(values["href"])
        elif tag == "svg":
            self.svg += 1


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, telegram_bot_username=BOT)
    try:
        yield running
    finally:
        await running.close()


async def get(
    browser: aiohttp.ClientSession, url: str, language: str = "en-GB,en;q=0.9"
) -> tuple[int, str, aiohttp.ClientResponse]:
    async with browser.get(
        url, headers={"Accept-Language": language}, allow_redirects=False
    ) as response:
        return response.status, await response.text(), response


async def test_an_approved_campaign_is_public_in_english(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(goal=20)

    status, html, response = await get(browser, f"{site.url}/c/{campaign.ref}")

    assert status == 200
    assert "<h1>Save the river</h1>" in html
    assert "Save our river! #SaveTheRiver https://example.org/river" in html
    assert "by Olga" in html
    assert '<progress max="20" value="0">' in html
    assert "0 of 20 supporters" in html
    assert "Combined reach: 0 followers" in html
    assert "2 days left" in html
    # Written in UTC for browsers without JavaScript; the script rewrites it locally.
    launch = campaign.launch_at.astimezone().strftime("%Y-%m-%d")
    assert f"data-local>{launch} " in html and " UTC</time>" in html
    assert "Times are shown in UTC." in html
    assert ">Mastodon</span>" in html and ">X</span>" in html
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_page_speaks_french_from_accept_language(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(goal=20)

    _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}", "fr-FR,fr;q=0.9,en;q=0.5")

    assert '<html lang="fr">' in html
    assert "par Olga" in html
    assert "0 soutien sur 20" in html
    assert "Encore 2 jours" in html
    assert "Soutenir sur Telegram" in html
    assert "Faites passer le mot" in html


async def test_the_reference_is_read_like_in_the_chats(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign()

    status, _, _ = await get(browser, f"{site.url}/c/{campaign.ref.lower()}")

    assert status == 200


@pytest.mark.parametrize(
    "status", [CampaignStatus.PENDING_REVIEW, CampaignStatus.REJECTED, CampaignStatus.DRAFT]
)
async def test_an_unapproved_campaign_is_not_found(
    site: PledgeSite, browser: aiohttp.ClientSession, status: CampaignStatus
) -> None:
    campaign = await site.campaign(status=status)

    code, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")

    assert code == 404
    assert "There is no page at this address." in html
    assert campaign.title not in html


async def test_unknown_and_malformed_references_are_not_found(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    for ref in ("ZZZZZZ", "%3Cscript%3E", "A" * 40):
        code, html, _ = await get(browser, f"{site.url}/c/{ref}")
        assert code == 404
        assert "There is no page at this address." in html
        assert "<script>" not in html


async def test_a_cancelled_campaign_says_so(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(status=CampaignStatus.CANCELLED)

    code, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}", "fr")

    assert code == 404
    assert "Cette campagne a été annulée" in html
    assert campaign.title not in html


async def test_a_launched_campaign_shows_its_results(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.launched(await site.campaign(goal=2), posts=7)

    status, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")

    assert status == 200
    assert "Launched: the messages went out together." in html
    assert "7 posts went out" in html
    assert "Reaching 2,800 followers" in html
    posts = [link for link in parsed(html).links if "/status/" in link]
    assert len(posts) == 5  # a few, not all
    assert all(link.startswith("https://x.com/fan") for link in posts)
    assert "left" not in html.split("</time>")[1].split("</dd>")[0]
    assert "Support on Telegram" not in html  # no more pledges once launched


async def test_link_preview_tags(site: PledgeSite, browser: aiohttp.ClientSession) -> None:
    campaign = await site.campaign(title="Save the <river> & “sea”")

    _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")

    meta = parsed(html).meta
    page = f"{site.url}/c/{campaign.ref}"
    assert meta["og:title"] == "Save the <river> & “sea”"
    assert meta["og:description"] == "Save our river! #SaveTheRiver https://example.org/river"
    assert meta["og:url"] == page
    assert meta["og:image"] == f"{page}/preview.png"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:image"] == f"{page}/preview.png"
    assert "<river>" not in html  # shown, never run


async def test_join_share_and_qr(site: PledgeSite, browser: aiohttp.ClientSession) -> None:
    campaign = await site.campaign(title="Save the river")
    page = f"{site.url}/c/{campaign.ref}"

    _, html, _ = await get(browser, page)

    tags = parsed(html)
    assert f"https://t.me/{BOT}?start={campaign.ref}" in tags.links
    by_host = {urlsplit(link).netloc or urlsplit(link).scheme: link for link in tags.links}
    x = parse_qs(urlsplit(by_host["x.com"]).query)
    assert x == {"text": ["Save the river"], "url": [page]}
    assert parse_qs(urlsplit(by_host["bsky.app"]).query) == {"text": [f"Save the river {page}"]}
    assert parse_qs(urlsplit(by_host["wa.me"]).query) == {"text": [f"Save the river {page}"]}
    share = next(link for link in tags.links if link.startswith("https://t.me/share/url?"))
    assert parse_qs(urlsplit(share).query) == {"url": [page], "text": ["Save the river"]}
    mail = parse_qs(urlsplit(by_host["mailto"]).query)
    assert mail == {"subject": ["Save the river"], "body": [page]}
    assert tags.svg == 1 and "<title>QR code of the page “Save the river”</title>" in html
    assert f'value="{page}" readonly' in html or f'readonly value="{page}"' in html


async def test_without_a_bot_username_there_is_no_telegram_button(
    repo: Repository, browser: aiohttp.ClientSession
) -> None:
    site = await start_site(repo)
    try:
        campaign = await site.campaign()
        _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")
    finally:
        await site.close()

    assert "Support on Telegram" not in html
    assert "https://t.me/share/url?" in html  # sharing on Telegram needs no bot


async def share_hop(
    browser: aiohttp.ClientSession, page: str, network: str, typed: str
) -> tuple[int, str]:
    """The visitor types ``typed`` as their instance of ``network``: the status, and where
    it sends them (or the page it answers)."""
    async with browser.get(
        f"{page}/share/{network}", params={"instance": typed}, allow_redirects=False
    ) as response:
        return response.status, response.headers.get("Location") or await response.text()


async def test_mastodon_share_goes_to_the_visitors_instance(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign(networks=(MASTODON,))
    page = f"{site.url}/c/{campaign.ref}"

    for typed in ("mastodon.social", " https://Mastodon.Social/ ", "@me@mastodon.social"):
        status, location = await share_hop(browser, page, MASTODON, typed)
        target = urlsplit(location)
        assert status == 303
        assert (target.scheme, target.netloc, target.path) == (
            "https",
            "mastodon.social",
            "/share",
        )
        assert parse_qs(target.query) == {"text": [f"Save the river {page}"]}


async def test_a_bad_instance_is_explained_and_leads_back(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign()
    page = f"{site.url}/c/{campaign.ref}"

    for typed in ("", "not an instance", "-bad-.example", "localhost", "127.0.0.1"):
        status, html = await share_hop(browser, page, MASTODON, typed)
        assert status == 400
        assert "does not look like an instance address" in html
        assert f'href="/c/{campaign.ref}"' in html


async def test_no_instance_share_for_a_hidden_campaign_or_another_network(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    live = await site.campaign()
    pending = await site.campaign(status=CampaignStatus.PENDING_REVIEW)

    for ref, network in ((live.ref, X), (live.ref, "nowhere"), (pending.ref, MASTODON)):
        status, _ = await share_hop(browser, f"{site.url}/c/{ref}", network, "mastodon.social")
        assert status == 404
