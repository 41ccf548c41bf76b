"""Campaigns waiting for moderation: the /pending list, and expiry at the launch moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.app import Chorus, build_chorus
from bot.domain.campaign import Campaign, CampaignStatus, transition
from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from bot.i18n import render
from bot.ports import Repository
from bot.services.views import PENDING_SHOWN, pending_list
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import MODERATOR, ORGANISER, SECRET, draft

Make = Callable[..., Awaitable[Campaign]]


async def test_pending_lists_only_waiting_campaigns_oldest_first(
    core: Chorus, clock: FakeClock, submitted: Make
) -> None:
    first = await submitted(title="First one")
    clock.advance(timedelta(minutes=5))
    decided = await submitted(title="Decided one")
    clock.advance(timedelta(minutes=5))
    last = await submitted(title="Last one", lead=timedelta(hours=3))
    assert decided.id is not None
    await core.moderation.approve(decided.id, MODERATOR, may_moderate=True)
    assert [c.ref for c in await core.moderation.pending(may_moderate=True)] == [
        first.ref,
        last.ref,
    ]


async def test_the_pending_view_shows_ref_title_organiser_launch_and_buttons(
    core: Chorus, clock: FakeClock, submitted: Make
) -> None:
    campaign = await submitted()
    message = pending_list(await core.moderation.pending(may_moderate=True))
    text = "\n".join(render(part, "en") for part in message.parts)
    assert campaign.ref in text and "Save the bees" in text and "from Olga" in text
    assert "launch 2030-01-17 12:00 UTC" in text
    actions = [b.action for row in message.buttons for b in row]
    assert actions == [f"approve:{campaign.id}", f"reject:{campaign.id}"]
    labels = [render(b.label, "fr") for row in message.buttons for b in row]
    assert labels == [f"Approuver {campaign.ref}", f"Refuser {campaign.ref}"]


async def test_the_pending_view_caps_the_buttons_and_says_how_many_more(
    core: Chorus, clock: FakeClock
) -> None:
    for number in range(PENDING_SHOWN + 2):  # one each: an organiser's queue is capped
        organiser = UserRef("test", f"organiser-{number}", f"Organiser {number}", "en")
        await core.campaigns.submit(draft(clock), organiser, None)
    message = pending_list(await core.moderation.pending(may_moderate=True))
    assert len(message.buttons) == PENDING_SHOWN
    assert render(message.parts[-1], "en").startswith("…and 2 more waiting")


def test_an_empty_pending_view_says_so() -> None:
    assert [p.key for p in pending_list([]).parts] == ["pending.none"]


async def test_expire_waits_for_the_launch_moment(
    core: Chorus, clock: FakeClock, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    clock.set(campaign.launch_at - timedelta(seconds=1))
    assert await core.expiry.expire(campaign.id) is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


async def test_expire_leaves_a_decided_campaign_alone(
    core: Chorus, clock: FakeClock, submitted: Make, front: RecordingFrontEnd
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    clock.set(campaign.launch_at)
    assert await core.expiry.expire(campaign.id) is None
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE
    assert "organiser.expired" not in front.keys_to(f"user:{ORGANISER.id}")


@pytest.mark.parametrize("action", ["approve", "reject"])
async def test_a_moderator_acting_on_an_expired_campaign_is_told_it_expired(
    core: Chorus, clock: FakeClock, submitted: Make, action: str
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    clock.set(campaign.launch_at)
    expired = await core.expiry.expire(campaign.id)
    assert expired is not None and expired.status is CampaignStatus.EXPIRED
    with pytest.raises(DomainError) as caught:
        if action == "approve":
            await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
        else:
            await core.moderation.reject(
                campaign.id, MODERATOR, "too late anyway", may_moderate=True
            )
    assert caught.value.key == "moderation.expired"
    assert "expired" in render(caught.value.text, "en")
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.EXPIRED


class DecidesFirst:
    """The real repository, where a moderator's approval lands just before the expiry's."""

    def __init__(self, inner: Repository, moderator: UserRef) -> None:
        self._inner = inner
        self._moderator = moderator
        self.raced = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def update_campaign(self, campaign: Campaign) -> Campaign:
        if campaign.status is CampaignStatus.EXPIRED and not self.raced:
            self.raced = True
            assert campaign.id is not None
            stored = await self._inner.get_campaign(campaign.id)
            assert stored is not None
            await self._inner.update_campaign(
                transition(stored, CampaignStatus.LIVE, at=campaign.launch_at, by=self._moderator)
            )
        return await self._inner.update_campaign(campaign)


async def test_a_decision_at_the_same_moment_wins_over_the_expiry(
    settings: Settings, repo: Repository, clock: FakeClock, front: RecordingFrontEnd
) -> None:
    racing = DecidesFirst(repo, MODERATOR)
    core = build_chorus(settings, racing, clock, secret=SECRET, front_ends=[front])  # type: ignore[arg-type]
    campaign = await core.campaigns.submit(draft(clock), ORGANISER)
    assert campaign.id is not None
    clock.set(campaign.launch_at)
    assert await core.expiry.expire(campaign.id) is None
    assert racing.raced
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE
    assert "organiser.expired" not in front.keys_to(f"user:{ORGANISER.id}")
