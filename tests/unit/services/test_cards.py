"""The campaign card, the moderation card and the /mycampaigns line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import GOAL_MAX, TITLE_MAX, Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.i18n import render
from bot.services.cards import campaign_card, moderation_card, summary_line, time_left
from bot.web.handlers import MAX_MESSAGE
from tests.unit.services.conftest import MODERATOR, ORGANISER

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


def campaign(
    status: CampaignStatus = CampaignStatus.LIVE, goal: int = 10, **kw: object
) -> Campaign:
    return Campaign(
        ref="K7QX2M",
        title="Save the bees",
        message="Bees #bees",
        goal=goal,
        launch_at=NOW + timedelta(days=1, hours=2),
        networks=(MASTODON, X),
        organiser=ORGANISER,
        created_at=NOW,
        status=status,
        id=3,
        **kw,  # type: ignore[arg-type]
    )


def text(message: object, language: str = "en") -> str:
    return "\n".join(render(part, language) for part in message.parts)  # type: ignore[attr-defined]


def test_live_card_shows_progress_and_support() -> None:
    card = campaign_card(campaign(), CampaignStats(supporters=4, reach=1234))
    assert [b.action for row in card.buttons for b in row] == ["support:K7QX2M"]
    shown = text(card)
    assert "▓▓▓▓░░░░░░ 40%" in shown and "4 / 10" in shown and "reach 1,234" in shown
    assert "2030-01-16 14:00 UTC" in shown


def test_the_card_counts_people_and_shows_accounts_apart_when_they_differ() -> None:
    same = campaign_card(campaign(), CampaignStats(supporters=4, accounts=4, reach=9))
    assert "card.accounts" not in [part.key for part in same.parts]
    card = campaign_card(campaign(), CampaignStats(supporters=2, accounts=5, reach=9))
    assert "2 / 10 supporters" in text(card)
    assert "5 accounts pledged" in text(card)
    assert "5 comptes engagés" in text(card, "fr")


def test_no_minimum_card() -> None:
    card = campaign_card(campaign(goal=0), CampaignStats(supporters=4, reach=9))
    assert card.parts[3].key == "card.figures_no_minimum"


@pytest.mark.parametrize("status", [s for s in CampaignStatus if s is not CampaignStatus.LIVE])
def test_cards_of_closed_campaigns_have_no_button_and_say_why(status: CampaignStatus) -> None:
    card = campaign_card(campaign(status), CampaignStats())
    assert card.buttons == ()
    assert card.parts[-1].key == f"card.status_{status.value}"


def test_moderation_card_before_and_after_the_decision() -> None:
    pending = moderation_card(campaign(CampaignStatus.PENDING_REVIEW))
    assert [b.action for row in pending.buttons for b in row] == [
        "approve:3",
        "reject:3",
        "changes:3",
    ]
    assert "mastodon, x" in text(pending)
    approved = moderation_card(campaign(decided_by=MODERATOR, decided_at=NOW))
    assert approved.buttons == () and approved.parts[-1].key == "moderation.approved_by"
    assert "Mo" in text(approved)
    rejected = moderation_card(
        campaign(
            CampaignStatus.REJECTED, decided_by=MODERATOR, decided_at=NOW, reject_reason="spam"
        )
    )
    assert rejected.parts[-1].key == "moderation.rejected_by" and "spam" in text(rejected, "fr")


@pytest.mark.parametrize(
    ("left", "key", "params"),
    [
        (timedelta(days=1, hours=2), "time.days_hours", {"days": 1, "hours": 2}),
        (timedelta(hours=3, minutes=5), "time.hours_minutes", {"hours": 3, "minutes": 5}),
        (timedelta(minutes=42), "time.minutes", {"minutes": 42}),
        (timedelta(seconds=20), "time.minutes", {"minutes": 1}),
        (timedelta(0), "time.passed", {}),
        (timedelta(minutes=-5), "time.passed", {}),
    ],
)
def test_time_left(left: timedelta, key: str, params: dict[str, int]) -> None:
    c = campaign()
    shown = time_left(c, c.launch_at - left)
    assert (shown.key, dict(shown.params)) == (key, params)


def test_summary_line_is_translated() -> None:
    line = summary_line(campaign(), CampaignStats(supporters=2, reach=30), NOW)
    assert render(line, "en").startswith("K7QX2M · Save the bees · live · 2 / 10 supporters")
    assert "K7QX2M" in render(line, "fr")


SITE = "https://chorus.example/"


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "🌐 Campaign page: https://chorus.example/c/K7QX2M"),
        ("fr", "🌐 Page de la campagne : https://chorus.example/c/K7QX2M"),
    ],
)
def test_a_public_campaign_card_announces_its_page(language: str, line: str) -> None:
    card = campaign_card(campaign(), CampaignStats(supporters=4, reach=9), SITE)
    assert text(card, language).endswith(f"\n{line}")
    assert [b.action for row in card.buttons for b in row] == ["support:K7QX2M"]


@pytest.mark.parametrize("status", list(CampaignStatus))
def test_only_public_campaigns_announce_their_page(status: CampaignStatus) -> None:
    card = campaign_card(campaign(status), CampaignStats(), SITE)
    public = status in {
        CampaignStatus.LIVE,
        CampaignStatus.LAUNCHING,
        CampaignStatus.LAUNCHED,
        CampaignStatus.FAILED,
    }
    assert ("https://chorus.example/c/K7QX2M" in text(card)) is public
    if public and status is not CampaignStatus.LIVE:  # the page line follows the status
        assert [p.key for p in card.parts[-2:]] == [f"card.status_{status.value}", "card.page"]


def test_a_card_without_a_site_has_no_page_line() -> None:
    assert "card.page" not in [p.key for p in campaign_card(campaign(), CampaignStats()).parts]


def test_the_largest_card_with_its_page_line_fits_a_telegram_message() -> None:
    from telegram.constants import MessageLimit

    from adapters.telegram.render import Renderer

    huge = replace(campaign(goal=GOAL_MAX), title="T" * TITLE_MAX, message="m" * MAX_MESSAGE)
    stats = CampaignStats(supporters=GOAL_MAX, accounts=GOAL_MAX * 3, reach=10**12)
    card = campaign_card(huge, stats, "https://chorus.example.org/a/rather/long/prefix")
    for language in ("en", "fr"):
        shown = Renderer("ChorusBot", ZoneInfo("UTC")).message_text(card, language)
        assert len(shown) < MessageLimit.MAX_TEXT_LENGTH  # not clipped
        assert shown.endswith("https://chorus.example.org/a/rather/long/prefix/c/K7QX2M")
