"""Console: a message without a hashtag is warned about; press a number to keep it."""

from __future__ import annotations

from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from tests.integration.console.conftest import Console

NO_TAG = "Join us to save the park https://example.org/park"


async def test_warning_shows_keep_change_cancel_and_keeping_goes_on(console: Console) -> None:
    printed = await console.type("/newcampaign", "Save the park", NO_TAG)
    assert render(t("dialog.no_hashtag"), "en") in printed
    assert "⚠️ Trending needs a hashtag" in printed
    assert "[1] Keep it without a hashtag   [2] Change the message\n   [3] Cancel" in printed

    printed = await console.type("2")  # Change the message
    assert render(t("dialog.ask_message", limit=500), "en") in printed
    printed = await console.type(NO_TAG)
    assert "⚠️ Trending needs a hashtag" in printed

    printed = await console.type("1")  # Keep it
    assert render(t("variants.ask", max=5), "en") in printed
    printed = await console.type("1")  # Skip: no other wordings
    assert render(t("dialog.ask_goal"), "en") in printed
    printed = await console.type("3", "in 2 hours", "1", "1", "1")  # skip, skip, submit
    ref = printed.split("New campaign ", 1)[1].split()[0]
    campaign = await console.core.campaigns.get(ref)
    assert (campaign.message, campaign.status) == (NO_TAG, CampaignStatus.PENDING_REVIEW)
