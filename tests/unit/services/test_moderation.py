"""The moderation use cases: approve, reject, who may act, and a rejection waiting for its
reason (the /pending list and expiry: ``test_moderation_queue``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.errors import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
)
from bot.domain.refs import UserRef
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import MODERATOR, ORGANISER, STRANGER, edits

Make = Callable[..., Awaitable[Campaign]]


class Prompts:
    """Stands in for a front end posting the "reply with the reason" prompt."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, campaign: Campaign) -> str:
        self.asked.append(campaign.ref)
        return str(1000 + len(self.asked))


async def test_approve_edits_the_card_and_tells_the_organiser(
    core: Chorus, front: RecordingFrontEnd, submitted: Make, clock: FakeClock
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    [card] = front.to("moderators")
    clock.advance(timedelta(minutes=3))
    live = await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    assert live.status is CampaignStatus.LIVE
    assert (live.decided_by, live.decided_at) == (MODERATOR, clock.now())
    [edit] = front.to(f"edit:mods/{card.ref.id}")
    assert edit.keys[-1] == "moderation.approved_by"
    assert edit.actions == []  # the buttons are gone
    [told] = front.to(f"user:{ORGANISER.id}")
    assert told.keys == ["organiser.approved", "card.page"]  # the page to share, now public
    assert live.ref in told.text
    assert told.text.endswith(f"Campaign page: http://127.0.0.1:8080/c/{live.ref}")


async def test_approving_twice_is_refused(core: Chorus, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    with pytest.raises(DomainError) as exc:
        await core.moderation.approve(
            campaign.id, UserRef("test", "901", "Other mod"), may_moderate=True
        )
    assert exc.value.key == "campaign.cannot_live"
    stored = await core.campaigns.get_by_id(campaign.id)
    assert stored.decided_by == MODERATOR


async def test_concurrent_approvals_one_wins(
    core: Chorus, front: RecordingFrontEnd, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    other = UserRef("test", "901", "Other mod")
    results = await asyncio.gather(
        core.moderation.approve(campaign.id, MODERATOR, may_moderate=True),
        core.moderation.approve(campaign.id, other, may_moderate=True),
        core.moderation.reject(campaign.id, other, "spam", may_moderate=True),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Campaign)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert (len(wins), len(losses)) == (1, 2)
    assert {e.key for e in losses} <= {
        "error.stale",
        "campaign.cannot_live",
        "campaign.cannot_rejected",
    }
    assert len(front.to(f"user:{ORGANISER.id}")) == 1
    assert len(edits(front)) == 1
    stored = await core.campaigns.get_by_id(campaign.id)
    assert stored.status is wins[0].status


async def test_approve_after_the_launch_moment_is_refused(
    core: Chorus, submitted: Make, clock: FakeClock
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    clock.set(campaign.launch_at)
    with pytest.raises(DomainError) as exc:
        await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    assert exc.value.key == "moderation.launch_passed"
    assert (await core.campaigns.get_by_id(campaign.id)).status is CampaignStatus.PENDING_REVIEW


async def test_approve_unknown_campaign(core: Chorus) -> None:
    with pytest.raises(NotFound) as exc:
        await core.moderation.approve(4242, MODERATOR, may_moderate=True)
    assert exc.value.key == "campaign.not_found"


@pytest.mark.parametrize("reason", ["", "   "])
async def test_reject_needs_a_reason(
    core: Chorus, front: RecordingFrontEnd, submitted: Make, reason: str
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    with pytest.raises(DomainError) as exc:
        await core.moderation.reject(campaign.id, MODERATOR, reason, may_moderate=True)
    assert exc.value.key == "reject.reason_required"
    assert (await core.campaigns.get_by_id(campaign.id)).status is CampaignStatus.PENDING_REVIEW
    assert front.to(f"user:{ORGANISER.id}") == [] and edits(front) == []


async def test_reject_tells_the_organiser_the_reason(
    core: Chorus, front: RecordingFrontEnd, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    rejected = await core.moderation.reject(
        campaign.id, MODERATOR, "  Off topic here.  ", may_moderate=True
    )
    assert (rejected.status, rejected.reject_reason) == (
        CampaignStatus.REJECTED,
        "Off topic here.",
    )
    [told] = front.to(f"user:{ORGANISER.id}")
    assert told.keys == ["organiser.rejected"]
    assert "Off topic here." in told.text
    [edit] = [s for s in front.sent if s.where.startswith("edit:mods/")]
    assert edit.keys[-1] == "moderation.rejected_by" and "Off topic here." in edit.text
    with pytest.raises(DomainError) as exc:
        await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    assert exc.value.key == "campaign.cannot_live"


async def test_someone_who_may_not_moderate_changes_nothing(
    core: Chorus, submitted: Make, front: RecordingFrontEnd
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    sent_before = len(front.sent)
    prompts = Prompts()
    attempts = [
        core.moderation.approve(campaign.id, STRANGER, may_moderate=False),
        core.moderation.reject(campaign.id, STRANGER, "spam", may_moderate=False),
        core.moderation.start_rejection(campaign.id, STRANGER, prompts.ask, may_moderate=False),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed) as exc:
            await attempt
        assert exc.value.key == "moderation.not_moderator"
    with pytest.raises(NotAllowed) as listing:
        await core.moderation.pending(may_moderate=False)
    assert listing.value.key == "pending.not_moderator"
    assert prompts.asked == [] and len(front.sent) == sent_before
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


async def test_the_reason_given_after_a_restart_rejects(
    core: Chorus, make_core: Callable[..., Chorus], submitted: Make, front: RecordingFrontEnd
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    prompts = Prompts()
    await core.moderation.start_rejection(campaign.id, MODERATOR, prompts.ask, may_moderate=True)
    assert prompts.asked == [campaign.ref]

    restarted = make_core()  # a new core over the same database
    rejected = await restarted.moderation.give_reason(MODERATOR, "1001", "Off topic")
    assert rejected is not None and rejected.status is CampaignStatus.REJECTED
    assert (rejected.decided_by, rejected.reject_reason) == (MODERATOR, "Off topic")
    [told] = front.to(f"user:{ORGANISER.id}")
    assert told.keys == ["organiser.rejected"]
    assert await restarted.moderation.give_reason(MODERATOR, "1001", "again") is None


async def test_a_reply_to_another_message_or_by_another_person_is_no_reason(
    core: Chorus, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    assert await core.moderation.give_reason(MODERATOR, "999", "just chatting") is None
    assert await core.moderation.give_reason(STRANGER, "1001", "me too") is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW
    assert await core.moderation.give_reason(MODERATOR, "1001", "Spam") is not None


async def test_an_empty_reason_keeps_the_rejection_waiting(core: Chorus, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    with pytest.raises(InvalidInput) as exc:
        await core.moderation.give_reason(MODERATOR, "1001", "   ")
    assert exc.value.key == "reject.reason_required"
    rejected = await core.moderation.give_reason(MODERATOR, "1001", "Spam")
    assert rejected is not None and rejected.reject_reason == "Spam"


async def test_a_campaign_decided_meanwhile_ends_the_wait(core: Chorus, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    await core.moderation.approve(campaign.id, STRANGER, may_moderate=True)
    with pytest.raises(DomainError):
        await core.moderation.give_reason(MODERATOR, "1001", "Spam")
    assert await core.moderation.give_reason(MODERATOR, "1001", "Spam") is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE


async def test_a_cancelled_or_lapsed_rejection_takes_no_reason(
    core: Chorus, submitted: Make, clock: FakeClock
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    prompts = Prompts()
    await core.moderation.start_rejection(campaign.id, MODERATOR, prompts.ask, may_moderate=True)
    await core.moderation.cancel_rejection(MODERATOR)
    assert await core.moderation.give_reason(MODERATOR, "1001", "Spam") is None

    await core.moderation.start_rejection(campaign.id, MODERATOR, prompts.ask, may_moderate=True)
    clock.advance(core.moderation.reason_wait + timedelta(seconds=1))
    assert await core.moderation.give_reason(MODERATOR, "1002", "Spam") is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


async def test_a_rejection_cannot_start_once_decided(core: Chorus, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    prompts = Prompts()
    with pytest.raises(InvalidTransition) as exc:
        await core.moderation.start_rejection(
            campaign.id, MODERATOR, prompts.ask, may_moderate=True
        )
    assert exc.value.key == "campaign.cannot_rejected"
    assert prompts.asked == []  # no prompt posted for nothing
