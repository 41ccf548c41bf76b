"""Limits on volume as the console meets them: the moderation queue cap, one card per chat."""

from __future__ import annotations

from tests.integration.console.conftest import Console
from tests.integration.console.test_session import said


async def test_a_fourth_campaign_waiting_is_refused_and_its_draft_kept(console: Console) -> None:
    for number in range(3):
        await console.new_campaign(title=f"Save the park {number}")
    await console.type(
        "/newcampaign",
        "Save the lake",
        "Join us #savethelake https://example.org/lake",
        "3",
        "in 2 hours",
    )

    printed = await console.type("1")  # Submit

    assert said("campaign.too_many_pending", max=3) in printed
    assert "[1] Submit" in printed  # the preview again: nothing to type twice
    assert len(await console.core.repo.campaigns_of(console.session.user)) == 3
    assert await console.core.dialogs.active(console.session.user)
