"""Counts next to a noun read right in each language: the card and the support intro.

English says "1 supporter" and "0 supporters"; French says "0 soutien", "1 soutien" and
"2 soutiens" (CLDR puts 0 and 1 in the same form). These go through the same renders the
chat front ends use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign
from bot.domain.cards import CampaignStats
from bot.domain.text import t
from bot.i18n import render
from bot.services.cards import campaign_card
from tests.unit.services.conftest import pledge, supporter
from tests.unit.services.test_cards import campaign

Make = Callable[..., Awaitable[Campaign]]


def card_text(goal: int, supporters: int, language: str) -> str:
    shown = campaign(goal=goal)
    card = campaign_card(shown, CampaignStats(supporters=supporters, reach=1))
    return "\n".join(render(part, language) for part in card.parts)


@pytest.mark.parametrize(
    ("supporters", "language", "shown"),
    [
        (1, "en", "👥 1 supporter (no minimum)"),
        (2, "en", "👥 2 supporters (no minimum)"),
        (0, "en", "👥 0 supporters (no minimum)"),
        (0, "fr", "👥 0 soutien (aucun minimum)"),
        (1, "fr", "👥 1 soutien (aucun minimum)"),
        (2, "fr", "👥 2 soutiens (aucun minimum)"),
    ],
)
def test_card_without_minimum_counts_supporters(
    supporters: int, language: str, shown: str
) -> None:
    assert shown in card_text(0, supporters, language)


@pytest.mark.parametrize(
    ("goal", "language", "shown"),
    [
        (1, "en", "👥 0 / 1 supporter · reach 1"),
        (2, "en", "👥 0 / 2 supporters · reach 1"),
        (1, "fr", "👥 0 / 1 soutien · portée 1"),
        (2, "fr", "👥 0 / 2 soutiens · portée 1"),
        (1_000_000, "fr", "👥 0 / 1\u202f000\u202f000 de soutiens · portée 1"),
    ],
)
def test_card_with_a_goal_agrees_with_the_goal(goal: int, language: str, shown: str) -> None:
    assert shown in card_text(goal, 0, language)


async def intro(core: Chorus, campaign: Campaign, language: str) -> str:
    _, message = await core.pledges.support(campaign.ref, supporter(50, language))
    return render(message.parts[0], language)


async def test_support_intro_counts_supporters_in_each_language(core: Chorus, live: Make) -> None:
    campaign = await live()
    assert intro_line(await intro(core, campaign, "en")).endswith("· 0 supporters so far.")
    assert intro_line(await intro(core, campaign, "fr")).endswith("· 0 soutien pour l'instant.")
    await pledge(core, campaign, supporter(1))
    assert intro_line(await intro(core, campaign, "en")).endswith("· 1 supporter so far.")
    assert intro_line(await intro(core, campaign, "fr")).endswith("· 1 soutien pour l'instant.")
    await pledge(core, campaign, supporter(2))
    assert intro_line(await intro(core, campaign, "en")).endswith("· 2 supporters so far.")
    assert intro_line(await intro(core, campaign, "fr")).endswith("· 2 soutiens pour l'instant.")


def intro_line(text: str) -> str:
    return text.splitlines()[-1]


def test_french_waiting_campaigns_agree_with_their_number() -> None:
    assert render(t("pending.more", count=1), "fr").startswith("…et 1 autre en attente.")
    assert render(t("pending.more", count=2), "fr").startswith("…et 2 autres en attente.")
    assert render(t("pending.more", count=1), "en").startswith("…and 1 more waiting.")
