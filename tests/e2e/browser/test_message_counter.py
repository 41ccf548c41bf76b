"""The pledge page's live counter counts as each network does, in a real Chromium: URLs
at a fixed weight or as written, and graphemes (what a reader sees) where the network
counts those. The markup is the pledge page's (one span per chosen network, carrying its
spec's rule); the script is the real ``pledge.js``. The server checks again on submit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.networks.bluesky import BLUESKY_SPEC
from adapters.networks.mastodon import MASTODON_SPEC
from adapters.networks.x import X_SPEC
from bot.domain.message_rules import weighted_length
from bot.domain.networks import NetworkSpec
from bot.web.rendering import STATIC
from tests.e2e.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"
    ),
]
SPECS = (X_SPEC, MASTODON_SPEC, BLUESKY_SPEC)


def _span(spec: NetworkSpec) -> str:
    rule = spec.length
    url = "" if rule.url_weight is None else str(rule.url_weight)
    return (
        f'<span class="limit" data-limit="{rule.limit}" data-url-weight="{url}" '
        f'data-weighting="{rule.weighting}" data-network="{spec.id}"></span>'
    )


@pytest.fixture
async def page(chromium: Any) -> AsyncIterator[Any]:
    context = await chromium.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    spans = "".join(_span(spec) for spec in SPECS)
    await page.set_content(
        '<html lang="fr"><body><textarea id="message" data-count-target="count"></textarea>'
        f'<p class="count" id="count" hidden><span data-count></span>{spans}</p></body></html>'
    )
    await page.add_script_tag(path=str(STATIC / "pledge.js"))
    try:
        yield page
    finally:
        await context.close()


@pytest.mark.parametrize(
    "text",
    [
        "Save the river #SaveTheRiver",
        "Ça suffit ! https://chorus.example/c/AB12CD/en/a-rather-long-path-to-the-campaign",
        "👩\u200d👩\u200d👧\u200d👦 🇫🇷 e\u0301te\u0301 #Été",
        "🏳\ufe0f\u200d🌈" * 40 + " https://example.org/x",
    ],
)
async def test_each_network_is_counted_by_its_own_rule(page: Any, text: str) -> None:
    await page.fill("#message", text)
    shown = await page.locator(".limit").all_inner_texts()
    bluesky = f"bluesky {weighted_length(text, BLUESKY_SPEC.length)}/300"
    mastodon = f"mastodon {weighted_length(text, MASTODON_SPEC.length)}/500"
    assert shown[1:] == [mastodon, bluesky]  # X's twitter-text weights stay approximate
    assert shown[0].startswith("x ") and shown[0].endswith("/280")


async def test_over_the_bluesky_limit_is_marked(page: Any) -> None:
    await page.fill("#message", "é" * 301)
    limits = page.locator(".limit")
    assert await limits.nth(2).get_attribute("class") == "limit over"
    assert await limits.nth(1).get_attribute("class") == "limit"
    await page.fill("#message", "👩\u200d👩\u200d👧" * 300)  # 300 graphemes, 1,500 code units
    assert await limits.nth(2).get_attribute("class") == "limit"
    assert await limits.nth(2).inner_text() == "bluesky 300/300"
