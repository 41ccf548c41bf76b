"""The answers every front end shows for /mypledges, /mycampaigns, /unpledge, /forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.text import t
from bot.i18n import render
from bot.services import views
from bot.services.pledges import Forgotten
from bot.services.revocations import Unrevoked
from tests.unit.services.conftest import ORGANISER

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


def campaign(ref: str = "K7QX2M", title: str = "Save the bees") -> Campaign:
    return Campaign(
        ref=ref,
        title=title,
        message="Bees #bees",
        goal=10,
        launch_at=NOW + timedelta(days=1),
        networks=(MASTODON,),
        organiser=ORGANISER,
        created_at=NOW,
        status=CampaignStatus.LIVE,
        id=3,
    )


def pledge(status: PledgeStatus) -> Pledge:
    return Pledge(3, ORGANISER, 7, MASTODON, NOW, status=status)


def shown(message: OutgoingMessage, language: str = "en") -> list[str]:
    return [render(part, language) for part in message.parts]


def test_pledge_list_has_a_header_and_a_line_per_pledge_in_each_language() -> None:
    rows = [
        (pledge(PledgeStatus.PLEDGED), campaign(), "@sam@mastodon.example"),
        (pledge(PledgeStatus.FAILED), campaign("B2B2B2", "Plant trees"), "@sam"),
    ]
    header, first, second = shown(views.pledge_list(rows))
    assert header == "Campaigns you support:"
    assert first == (
        "K7QX2M · Save the bees · @sam@mastodon.example · pledged · launch 2030-01-16 12:00 UTC"
    )
    assert second.startswith("B2B2B2 · Plant trees · @sam · not posted · ")
    french = shown(views.pledge_list(rows), "fr")
    assert french[0] == "Campagnes que vous soutenez :"
    assert " · promis · lancement " in french[1]


def test_no_pledge_says_so() -> None:
    assert shown(views.pledge_list([])) == [render(t("mypledges.none"), "en")]


def test_withdrawn_pledges_are_listed_unless_left_out() -> None:
    rows = [(pledge(PledgeStatus.WITHDRAWN), campaign(), "@sam")]
    assert " · withdrawn · " in shown(views.pledge_list(rows))[1]
    left_out = views.pledge_list(rows, include_withdrawn=False)
    assert [part.key for part in left_out.parts] == ["mypledges.none"]


def test_campaign_list_uses_the_summary_line() -> None:
    rows = [(campaign(), CampaignStats(supporters=2, reach=30))]
    header, line = shown(views.campaign_list(rows, NOW))
    assert header == "Your campaigns:"
    assert line.startswith("K7QX2M · Save the bees · live · 2 / 10 supporters · reach 30")
    assert [p.key for p in views.campaign_list([], NOW).parts] == ["mycampaigns.none"]


def test_unpledged_shows_the_reference_as_stored_whatever_was_typed() -> None:
    text = render(views.unpledged(" #k7qx2m", 2), "en")
    assert text.startswith("Done: 2 pledges withdrawn from K7QX2M.")


def test_forget_asks_with_yes_and_no_then_reports_counts() -> None:
    confirm = views.forget_confirm()
    assert [b.action for row in confirm.buttons for b in row] == ["forget:yes", "forget:no"]
    assert "cannot be undone" in shown(confirm)[0]
    done = views.forgotten(Forgotten(accounts=1, pledges=3))
    assert render(done, "en") == "Erased: 1 linked account and 3 pledges."
    assert render(done, "fr") == "Effacé : 1 compte lié et 3 soutiens."
    none = views.forgotten(Forgotten(accounts=0, pledges=1))
    assert render(none, "en") == "Erased: 0 linked accounts and 1 pledge."
    assert render(none, "fr") == "Effacé : 0 compte lié et 1 soutien."


def test_forget_says_which_accounts_are_not_revoked_yet_and_where_to_do_it() -> None:
    pending = Unrevoked(X, "@fan", "https://x.com/settings/connected_apps")
    done = views.forgotten(Forgotten(accounts=2, pledges=1, unrevoked=(pending,)))
    for language in ("en", "fr"):
        text = render(done, language)
        assert "2" in text and "• @fan: https://x.com/settings/connected_apps" in text
    assert "could not withdraw our access" in render(done, "en")


@pytest.mark.parametrize("view", [views.approved, views.rejected, views.campaign_cancelled])
def test_decisions_and_cancellations_name_the_campaign(view: object) -> None:
    for language in ("en", "fr"):
        text = render(view(campaign()), language)  # type: ignore[operator]
        assert "Save the bees" in text and "K7QX2M" in text
