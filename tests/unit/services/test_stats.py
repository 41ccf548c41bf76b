"""/stats figures: who may read them, what they count, the chart and the CSV export (a real
core over in-memory SQLite)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from PIL import Image

from adapters.networks.x import X
from bot.app import Chorus
from bot.domain.campaign import Campaign
from bot.domain.errors import NotAllowed
from bot.domain.pledge import PledgeStatus
from bot.i18n import render
from bot.services.stats import CSV_HEADER, chart_png, figures_csv, figures_message, safe_cell
from bot.services.web_supporters import new_web_supporter
from bot.testing.clock import FakeClock
from tests.unit.services.conftest import MODERATOR, ORGANISER, STRANGER, pledge, profile, supporter

Make = Callable[..., Awaitable[Campaign]]


async def three_pledges(core: Chorus, campaign: Campaign, clock: FakeClock) -> None:
    alice, bob = supporter(1), supporter(2)
    await pledge(core, campaign, alice, profile(1, followers=100))
    await pledge(core, campaign, alice, profile(11, X, followers=50))
    clock.advance(timedelta(hours=3))
    ticket = core.links.read(core.links.issue(campaign.ref, bob, alice.key))
    await core.pledges.record(ticket, profile(2, followers=7))
    web = new_web_supporter("fr")
    ticket = core.links.read(core.links.issue(campaign.ref, web))
    await core.pledges.record(ticket, profile(3, followers=1))


async def test_the_organiser_sees_totals_networks_and_sources(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    await three_pledges(core, campaign, clock)

    figures = await core.chat.stats.figures(campaign.ref.lower(), ORGANISER)

    assert figures.supporters == 3
    assert figures.reach == 158
    assert figures.by_network() == {"mastodon": 3, "x": 1}
    assert figures.by_source() == {"test": 1, "test+recruit": 1, "web": 1}
    assert [count for _, count in figures.supporters_over_time()] == [1, 1, 1, 3]
    text = "\n".join(render(part, "en") for part in figures_message(figures).parts)
    assert "3 supporters, 4 pledged account(s)." in text
    assert "Reach: 158 followers." in text
    assert "• mastodon: 3 / 0" in text
    assert "• test chat, through a recruit link: 1" in text
    assert "• the public page: 1" in text
    assert figures.recruiters == (1,)
    assert "People brought by each top recruit link: 1." in text
    french = "\n".join(render(part, "fr") for part in figures_message(figures).parts)
    assert "Portée : 158 abonnés." in french


async def test_a_moderator_may_read_them_a_stranger_may_not(core: Chorus, live: Make) -> None:
    campaign = await live()
    await core.chat.stats.figures(campaign.ref, MODERATOR, may_moderate=True)
    with pytest.raises(NotAllowed) as refused:
        await core.chat.stats.figures(campaign.ref, STRANGER)
    assert refused.value.text.key == "campaign.not_yours"


async def test_withdrawn_pledges_leave_the_figures_but_stay_in_the_export(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    await three_pledges(core, campaign, clock)
    await core.pledges.unpledge(campaign.ref, supporter(2))
    figures = await core.chat.stats.figures(campaign.ref, ORGANISER)
    assert (figures.supporters, figures.reach) == (2, 151)
    rows = list(csv.reader(io.StringIO(figures_csv(figures).decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + len(figures.pledges)
    assert sorted(row[4] for row in rows[1:]) == ["pledged"] * 3 + [PledgeStatus.WITHDRAWN.value]


async def test_the_csv_holds_no_identity_and_neutralises_formulas(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    await three_pledges(core, campaign, clock)
    figures = await core.chat.stats.figures(campaign.ref, ORGANISER)
    raw = figures_csv(figures).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))

    assert [(r["network"], r["source"], r["recruited"], r["reach"]) for r in rows] == [
        ("mastodon", "test", "no", "100"),
        ("x", "test", "no", "50"),
        ("mastodon", "test", "yes", "7"),
        ("mastodon", "web", "no", "1"),
    ]
    assert all(r["status"] == "pledged" for r in rows)
    for secret in ("Supporter 1", "Supporter 2", "user1", "100:", "tok"):
        assert secret not in raw.replace("test", "")
    for bad in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("mastodon") == "mastodon"


async def test_the_chart_is_a_png_of_the_expected_size(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    empty = await core.chat.stats.figures(campaign.ref, ORGANISER)
    await three_pledges(core, campaign, clock)
    figures = await core.chat.stats.figures(campaign.ref, ORGANISER)

    for shown, language in ((figures, "en"), (empty, "fr")):
        image = Image.open(io.BytesIO(await chart_png(shown, language)))
        assert image.format == "PNG"
        assert (image.size, image.mode) == ((640, 360), "RGB")
    drawn = Image.open(io.BytesIO(await chart_png(figures, "en"))).convert("RGB")
    assert (13, 110, 253) in {color for _, color in drawn.getcolors(maxcolors=1 << 16) or []}
