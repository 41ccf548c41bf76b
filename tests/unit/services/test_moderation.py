"""The moderation use cases: who may act, and a rejection waiting for its reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.app import Core
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.clock import FakeClock
from tests.unit.services.conftest import MODERATOR, ORGANISER, STRANGER

Make = Callable[..., Awaitable[Campaign]]


class Prompts:
    """Stands in for a front end posting the "reply with the reason" prompt."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def ask(self, campaign: Campaign) -> str:
        self.asked.append(campaign.ref)
        return str(1000 + len(self.asked))


async def test_someone_who_may_not_moderate_changes_nothing(
    core: Core, submitted: Make, front: RecordingFrontEnd
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
    core: Core, make_core: Callable[..., Core], submitted: Make, front: RecordingFrontEnd
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
    core: Core, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    assert await core.moderation.give_reason(MODERATOR, "999", "just chatting") is None
    assert await core.moderation.give_reason(STRANGER, "1001", "me too") is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW
    assert await core.moderation.give_reason(MODERATOR, "1001", "Spam") is not None


async def test_an_empty_reason_keeps_the_rejection_waiting(core: Core, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    with pytest.raises(InvalidInput) as exc:
        await core.moderation.give_reason(MODERATOR, "1001", "   ")
    assert exc.value.key == "reject.reason_required"
    rejected = await core.moderation.give_reason(MODERATOR, "1001", "Spam")
    assert rejected is not None and rejected.reject_reason == "Spam"


async def test_a_campaign_decided_meanwhile_ends_the_wait(core: Core, submitted: Make) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.start_rejection(campaign.id, MODERATOR, Prompts().ask, may_moderate=True)
    await core.moderation.approve(campaign.id, STRANGER, may_moderate=True)
    with pytest.raises(DomainError):
        await core.moderation.give_reason(MODERATOR, "1001", "Spam")
    assert await core.moderation.give_reason(MODERATOR, "1001", "Spam") is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE


async def test_a_cancelled_or_lapsed_rejection_takes_no_reason(
    core: Core, submitted: Make, clock: FakeClock
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


async def test_a_rejection_cannot_start_once_decided(core: Core, submitted: Make) -> None:
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
