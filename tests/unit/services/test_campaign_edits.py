"""Change requests and organisers' edits over a real core (in-memory SQLite, a recording
chat): the note reaches the organiser, edits and resubmission, edits after approval that
stay live or go back to review, every supporter told with a Withdraw button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CardKind
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.moderation import ReasonKind
from bot.domain.pledge import PledgeStatus
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import MODERATOR, ORGANISER, STRANGER, pledge, supporter

Make = Callable[..., Awaitable[Campaign]]


async def test_request_changes_edit_resubmit_and_approve(
    core: Chorus, submitted: Make, front: RecordingFrontEnd, clock: FakeClock
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    with pytest.raises(NotAllowed):
        await core.moderation.request_changes(campaign.id, STRANGER, "no", may_moderate=False)
    asked = await core.moderation.request_changes(
        campaign.id, MODERATOR, "Add the petition link", may_moderate=True
    )
    assert (asked.status, asked.ref) == (CampaignStatus.CHANGES_REQUESTED, campaign.ref)
    (note,) = [s for s in front.to(f"user:{ORGANISER.id}") if "changes.to_organiser" in s.keys]
    assert "Add the petition link" in note.text and f"/editcampaign {campaign.ref}" in note.text
    assert any(
        s.where.startswith("edit:") and "changes.requested_by" in s.keys for s in front.sent
    )

    with pytest.raises(NotAllowed):
        await core.chat.edits.edit(campaign.ref, STRANGER, "title", "Mine now")
    shown = await core.chat.edits.show(campaign.ref, ORGANISER)
    assert "The moderator's note: Add the petition link" in render(shown.parts[1], "en")
    saved = await core.chat.edits.edit(
        campaign.ref, ORGANISER, "message", "Save the bees #SaveBees https://bees.example/sign"
    )
    assert saved.parts[0].key == "edit.saved_resubmit"
    again = await core.chat.edits.resubmit(campaign.ref.lower(), ORGANISER)
    assert again.parts[0].key == "edit.resubmitted"
    fresh = await core.campaigns.get(campaign.ref)
    assert fresh.status is CampaignStatus.PENDING_REVIEW and fresh.reject_reason is None
    assert fresh.message.endswith("/sign")
    moderation_cards = await core.repo.cards_of(campaign.id, CardKind.MODERATION)
    assert len(moderation_cards) == 2  # a new card for the second review
    with pytest.raises(DomainError) as exc:
        await core.chat.edits.resubmit(campaign.ref, ORGANISER)
    assert exc.value.key == "edit.not_awaiting_changes"
    live = await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    assert live.status is CampaignStatus.LIVE


async def test_a_prompted_note_requests_changes(
    core: Chorus, submitted: Make, front: RecordingFrontEnd
) -> None:
    campaign = await submitted()
    assert campaign.id is not None

    async def ask(_: Campaign) -> str:
        return "prompt-1"

    await core.moderation.start_rejection(
        campaign.id, MODERATOR, ask, may_moderate=True, kind=ReasonKind.CHANGES
    )
    decided = await core.moderation.give_reason(MODERATOR, "prompt-1", "Shorter title")
    assert decided is not None and decided.status is CampaignStatus.CHANGES_REQUESTED
    assert decided.reject_reason == "Shorter title"
    with pytest.raises(DomainError) as exc:  # a replayed press on the old card
        await core.moderation.start_rejection(
            campaign.id, MODERATOR, ask, may_moderate=True, kind=ReasonKind.CHANGES
        )
    assert exc.value.key == "campaign.cannot_changes_requested"


async def test_an_edit_after_approval_reaches_every_supporter_in_their_language(
    core: Chorus, live: Make, front: RecordingFrontEnd, clock: FakeClock
) -> None:
    campaign = await live(goal=4)
    alice, bruno = supporter(1), supporter(2, "fr")
    await pledge(core, campaign, alice)
    await pledge(core, campaign, bruno)
    answer = await core.chat.edits.edit(campaign.ref, ORGANISER, "goal", "10")
    assert render(answer.parts[0], "en") == "Saved. 2 of 2 supporters were told."
    (to_alice,) = [s for s in front.to(f"user:{alice.id}") if "edit.supporter_header" in s.keys]
    assert "Goal: 4 supporters → 10 supporters" in to_alice.text
    assert to_alice.actions == [f"withdraw:{campaign.ref}"]
    (to_bruno,) = [s for s in front.to(f"user:{bruno.id}") if "edit.supporter_header" in s.keys]
    assert "Objectif : 4 soutiens → 10 soutiens" in to_bruno.text
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE

    later = "2030-01-20 18:00"
    await core.chat.edits.edit(campaign.ref, ORGANISER, "launch", later)
    moved = [s for s in front.to(f"user:{alice.id}") if "edit.supporter_header" in s.keys][-1]
    assert "Launch: 2030-01-17 12:00 UTC → 2030-01-20 18:00 UTC" in moved.text

    withdrawn = await core.chat.edits.withdraw(campaign.ref, bruno)
    assert withdrawn.parts[0].key == "unpledge.done"
    assert campaign.id is not None
    left = await core.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
    assert [p.supporter.key for p in left] == [alice.key]


async def test_a_launch_moved_within_a_day_goes_back_to_moderation_pledges_kept(
    core: Chorus, live: Make, front: RecordingFrontEnd, clock: FakeClock
) -> None:
    campaign = await live()
    alice = supporter(1)
    await pledge(core, campaign, alice)
    soon = (clock.now() + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    answer = await core.chat.edits.edit(campaign.ref, ORGANISER, "launch", soon)
    assert answer.parts[0].key == "edit.saved_review"
    back = await core.campaigns.get(campaign.ref)
    assert back.status is CampaignStatus.PENDING_REVIEW
    assert campaign.id is not None
    assert len(await core.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])) == 1
    (told,) = [s for s in front.to(f"user:{alice.id}") if "edit.supporter_header" in s.keys]
    assert "goes back to the moderators" in told.text
    # while it waits, the supporter may still withdraw
    assert (await core.chat.edits.withdraw(campaign.ref, alice)).parts[0].key == "unpledge.done"
    with pytest.raises(DomainError) as exc:
        await core.chat.edits.edit(campaign.ref, ORGANISER, "goal", "3")
    assert exc.value.key == "edit.not_editable"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("colour", "red", "edit.unknown_field"),
        ("goal", "", "edit.missing_value"),
        ("goal", "-3", "goal.negative"),
        ("launch", "yesterday-ish", "launch.unparseable"),
        ("message", "x" * 600, "message.too_long"),
    ],
)
async def test_bad_edits_get_a_clear_message(
    core: Chorus, live: Make, field: str, value: str, key: str
) -> None:
    campaign = await live()
    with pytest.raises(DomainError) as exc:
        await core.chat.edits.edit(campaign.ref, ORGANISER, field, value)
    assert exc.value.key == key
