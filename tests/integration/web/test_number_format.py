"""Counts on the public pages, the badge and the widget are written the reader's way:
English 12,345, French 12 345 (a narrow no-break space), over real HTTP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.fakes.pledge_site import PledgeSite
from tests.integration.web.test_campaign_media import SVG, Browser, fetch

GOAL = {"en": "12,345", "fr": "12\u202f345"}


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_public_page_badge_and_widget_group_digits_by_language(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign(goal=12_345)
    goal = GOAL[language]
    base = f"{site.url}/c/{campaign.ref}"

    _, page, _ = await fetch(browser, base, **{"Accept-Language": language})
    _, badge, _ = await fetch(browser, f"{base}/badge.svg", **{"Accept-Language": language})
    _, embed, _ = await fetch(browser, f"{base}/embed", **{"Accept-Language": language})

    assert re.search(rf"<strong>0 [^<]*{goal}\b", page.decode())  # the progress line
    texts = [node.text or "" for node in ET.fromstring(badge).iter(f"{SVG}text")]
    assert texts[-1].startswith(f"0 / {goal} ")
    assert goal in embed.decode()
    for body in (page, badge, embed):  # no text shows it raw (attributes may: max="12345")
        assert re.search(r">[^<]*12345", body.decode()) is None
