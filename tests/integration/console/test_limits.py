"""Limits on volume as the console meets them: the moderation queue cap, one card per chat."""

from __future__ import annotations

from bot.domain.cards import CardKind
from tests.integration.console.conftest import Console
from tests.integration.console.test_session import said


async def test_a_fourth_campaign_waiting_is_refused_and_its_draft_kept(console: Console) -> None:
    for number in range(3):
        await console.new_campaign(title=f"Save the park {number}")
    await console.type(
        "/newcampaign",
        "Save the lake",
        "Join us #savethelake https://example.org/lake",
        "1",  # Skip: no other wordings
        "3",
        "in 2 hours",
        "1",  # Skip the story
        "1",  # Skip the picture
    )

    printed = await console.type("1")  # Submit

    assert said("campaign.too_many_pending", max=3) in printed
    assert "[1] Submit" in printed  # the preview again: nothing to type twice
    assert len(await console.core.repo.campaigns_of(console.session.user)) == 3
    assert await console.core.dialogs.active(console.session.user)


async def test_promoting_again_moves_the_card_in_the_group(console: Console) -> None:
    ref = await console.live_campaign()  # approved and promoted once
    campaign_id = (await console.core.campaigns.get(ref)).id or 0
    [first] = await console.core.repo.cards_of(campaign_id, CardKind.PROMOTION)

    printed = await console.type(f"/promote {ref}")

    removed = said("console.header_deleted", where=said("console.chat_group"), id=first.message.id)
    assert removed in printed
    [card] = await console.core.repo.cards_of(campaign_id, CardKind.PROMOTION)
    assert card.message.id != first.message.id
    assert said("console.header", where=said("console.chat_group"), id=card.message.id) in printed
