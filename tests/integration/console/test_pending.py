"""/pending in the console, and a campaign nobody moderated expiring at its launch moment."""

from __future__ import annotations

from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from tests.integration.console.conftest import Console


async def test_pending_lists_what_waits_and_its_buttons_decide(console: Console) -> None:
    assert render(t("pending.none"), "en") in await console.type("/pending")
    first = await console.new_campaign(title="Save the park")
    second = await console.new_campaign(title="Save the river")
    printed = await console.type("/as mo", "/pending")
    assert printed.index(first) < printed.index(second)
    assert "Save the park" in printed and "from you" in printed
    assert f"[1] Approve {first}   [2] Reject {first}" in printed
    assert f"[3] Approve {second}   [4] Reject {second}" in printed
    printed = await console.type("3")
    assert (await console.core.campaigns.get(second)).status is CampaignStatus.LIVE
    assert (await console.core.campaigns.get(first)).status is CampaignStatus.PENDING_REVIEW
    assert second not in (await console.type("/pending")).split("Campaigns waiting")[-1]


async def test_help_mentions_pending(console: Console) -> None:
    assert "/pending" in await console.type("/help")


async def test_a_campaign_nobody_moderated_expires_at_its_launch(console: Console) -> None:
    ref = await console.new_campaign()  # launches in 2 hours
    printed = await console.type("/wait 3h")
    assert (await console.core.campaigns.get(ref)).status is CampaignStatus.EXPIRED
    assert "expired" in printed and "(edited)" in printed
    printed = await console.type(f"/approve {ref}")
    assert render(t("moderation.expired", ref=ref), "en") in printed
