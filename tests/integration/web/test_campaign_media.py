"""The preview image, the live badge and the embeddable widget, over real HTTP.

Only approved campaigns show outside the chats; the picture is a real 1200×630 PNG that
changes when the figures change; the badge is well-formed SVG whatever the title holds;
the widget may be framed by other sites while every other page still refuses framing.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.domain.campaign import CampaignStatus
from bot.ports import Repository
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.web.test_pledge_flow import pledge

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
SVG = "{http://www.w3.org/2000/svg}"
Browser = aiohttp.ClientSession


async def fetch(
    browser: Browser, url: str, **headers: str
) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with browser.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.read(), response


def png_of(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


async def test_preview_is_a_1200_by_630_png_cached_publicly(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(
        title="Sauvons la Loire avant l’été : stop aux déchets toxiques dans le fleuve, "
        "une pétition pour toutes les communes riveraines 🌊",
        goal=100,
    )

    status, body, response = await fetch(browser, f"{site.url}/c/{campaign.ref}/preview.png")

    assert status == 200
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["ETag"]
    image = png_of(body)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "preview.png").write_bytes(body)


async def test_preview_answers_304_to_its_own_etag(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    url = f"{site.url}/c/{campaign.ref}/preview.png"
    _, _, first = await fetch(browser, url)

    status, body, response = await fetch(browser, url, **{"If-None-Match": first.headers["ETag"]})

    assert status == 304
    assert body == b""
    assert response.headers["ETag"] == first.headers["ETag"]


async def test_preview_is_drawn_again_when_a_supporter_pledges(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(goal=2)
    url = f"{site.url}/c/{campaign.ref}/preview.png"
    _, before, first = await fetch(browser, url)

    status, html, _ = await pledge(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.url
    )
    assert status == 200, html
    stale = first.headers["ETag"]
    status, after, second = await fetch(browser, url, **{"If-None-Match": stale})

    assert status == 200  # the old picture's tag no longer matches
    assert second.headers["ETag"] != stale
    assert after != before
    assert png_of(after).size == (1200, 630)


async def test_preview_follows_the_reader_language(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    url = f"{site.url}/c/{campaign.ref}/preview.png"

    _, english, en = await fetch(browser, url)
    _, french, fr = await fetch(browser, url, **{"Accept-Language": "fr-FR,fr;q=0.9"})

    assert english != french
    assert en.headers["ETag"] != fr.headers["ETag"]
    assert fr.headers["Vary"] == "Accept-Language"


async def test_badge_is_svg_with_the_figures_and_an_escaped_title(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(title='Rivers <&> "us" </svg>', goal=100)

    status, body, response = await fetch(browser, f"{site.url}/c/{campaign.ref}/badge.svg")

    assert status == 200
    assert response.content_type == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    root = ET.fromstring(body)
    assert root.tag == f"{SVG}svg"
    assert int(root.attrib["width"]) > 0 and root.attrib["height"] == "20"
    texts = [node.text for node in root.iter(f"{SVG}text")]
    assert texts == ["Chorus", "0 / 100 supporters"]
    title = root.find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert 'Rivers <&> "us" </svg>' in title.text
    assert 'Rivers <&> "us" </svg>' in root.attrib["aria-label"]


async def test_badge_counts_supporters_in_french(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(goal=0)
    await pledge(browser, site.link(campaign), "mastodon", instance=site.mastodon.url)

    _, body, _ = await fetch(
        browser, f"{site.url}/c/{campaign.ref}/badge.svg", **{"Accept-Language": "fr"}
    )

    texts = [node.text for node in ET.fromstring(body).iter(f"{SVG}text")]
    assert texts == ["Chorus", "1 soutien"]


async def test_embed_may_be_framed_and_links_to_the_public_page(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(title="Save <b>the</b> river", goal=10)

    status, body, response = await fetch(browser, f"{site.url}/c/{campaign.ref.lower()}/embed")

    html = body.decode()
    assert status == 200
    assert "X-Frame-Options" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors")[1]
    assert "Save &lt;b&gt;the&lt;/b&gt; river" in html and "<b>the</b>" not in html
    public = f"{site.url}/c/{campaign.ref}"
    assert f'href="{public}" target="_blank" rel="noopener"' in html
    assert "0 of 10 supporters" in html and "Support this campaign" in html
    assert f'<meta property="og:image" content="{public}/preview.png">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert "<script" not in html


async def test_embed_in_french(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign(goal=10)

    _, body, _ = await fetch(
        browser, f"{site.url}/c/{campaign.ref}/embed", **{"Accept-Language": "fr-CA,fr;q=0.8"}
    )

    assert "Soutenir cette campagne" in body.decode()
    assert 'lang="fr"' in body.decode()


async def test_other_pages_still_refuse_framing(site: PledgeSite, browser: Browser) -> None:
    campaign = await site.campaign()
    for url in (site.link(campaign), f"{site.url}/healthz", f"{site.url}/c/NOPE42/embed"):
        _, _, response = await fetch(browser, url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


async def test_embed_frame_ancestors_come_from_the_setting(repo: Repository) -> None:
    running = await start_site(repo, embed_frame_ancestors="https://example.org 'self'")
    try:
        campaign = await running.campaign()
        async with aiohttp.ClientSession() as browser:
            _, _, response = await fetch(browser, f"{running.url}/c/{campaign.ref}/embed")
        csp = response.headers["Content-Security-Policy"]
        assert csp.endswith("frame-ancestors https://example.org 'self'")
        assert "X-Frame-Options" not in response.headers
    finally:
        await running.close()


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (CampaignStatus.DRAFT, False),
        (CampaignStatus.PENDING_REVIEW, False),
        (CampaignStatus.REJECTED, False),
        (CampaignStatus.CANCELLED, False),
        (CampaignStatus.EXPIRED, False),
        (CampaignStatus.LIVE, True),
        (CampaignStatus.LAUNCHING, True),
        (CampaignStatus.LAUNCHED, True),
        (CampaignStatus.FAILED, True),
    ],
)
async def test_only_an_approved_campaign_is_shown(
    site: PledgeSite, browser: Browser, status: CampaignStatus, shown: bool
) -> None:
    campaign = await site.campaign(status=status)
    for tail in ("preview.png", "badge.svg", "embed"):
        code, body, _ = await fetch(browser, f"{site.url}/c/{campaign.ref}/{tail}")
        assert code == (200 if shown else 404), tail
        if not shown:
            assert "There is no page at this address." in body.decode()


async def test_an_unknown_reference_is_not_found(site: PledgeSite, browser: Browser) -> None:
    for tail in ("preview.png", "badge.svg", "embed"):
        code, _, _ = await fetch(browser, f"{site.url}/c/ZZZZZZ/{tail}")
        assert code == 404, tail
    code, _, _ = await fetch(browser, f"{site.url}/c/{'A' * 200}/badge.svg")
    assert code == 404
