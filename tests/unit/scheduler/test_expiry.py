"""A campaign nobody moderated expires at its launch moment, even across a restart."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import MESSAGE, ORGANISER, World, make_world

MODERATOR = UserRef("test", "900", "Mo", "en")


async def submit(world: World, launch_in: timedelta = timedelta(days=2)) -> Campaign:
    """A campaign sent to the moderators through the service, as an organiser does."""
    draft = CampaignDraft("Save the bees", MESSAGE, 0, world.clock.now() + launch_in, (MASTODON,))
    return await world.core.campaigns.submit(draft, ORGANISER)


async def test_a_pending_campaign_has_only_an_expiry_timer_at_its_launch_moment(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    assert sorted(world.scheduler.armed()) == [f"campaign:{campaign.id}:expire"]
    job = world.scheduler._timers.get_job(f"campaign:{campaign.id}:expire")
    assert job is not None and job.args == (campaign.id, "expire")


async def test_approval_replaces_the_expiry_by_the_launch_timers(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    assert campaign.id is not None
    await world.core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    armed = world.scheduler.armed()
    assert f"campaign:{campaign.id}:expire" not in armed
    assert f"campaign:{campaign.id}:launch" in armed
    await world.go(campaign.launch_at + timedelta(seconds=1))
    assert (await world.reload(campaign)).status is not CampaignStatus.EXPIRED


async def test_rejection_drops_the_expiry(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    assert campaign.id is not None
    await world.core.moderation.reject(campaign.id, MODERATOR, "off topic", may_moderate=True)
    assert world.scheduler.armed() == {}


async def test_at_the_launch_moment_it_expires_the_organiser_is_told_and_the_card_is_closed(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    [card] = world.chat.to("moderators")
    assert card.actions == [
        f"approve:{campaign.id}",
        f"reject:{campaign.id}",
        f"changes:{campaign.id}",
    ]

    await world.go(campaign.launch_at - timedelta(seconds=1))
    assert (await world.reload(campaign)).status is CampaignStatus.PENDING_REVIEW

    await world.go(campaign.launch_at)
    expired = await world.reload(campaign)
    assert expired.status is CampaignStatus.EXPIRED
    assert expired.status_changed_at == campaign.launch_at
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["organiser.expired"]
    assert "expired" in world.texts_to(f"user:{ORGANISER.id}")
    assert card.ref is not None
    [edit] = world.chat.to(f"edit:{card.ref.chat.id}/{card.ref.id}")
    assert edit.actions == []
    assert "card.status_expired" in edit.keys
    assert world.scheduler.armed() == {}

    await world.go(campaign.launch_at + timedelta(hours=1))  # nothing runs twice
    assert len(world.chat.to(f"user:{ORGANISER.id}")) == 1
    assert world.mastodon.attempts == []


async def test_a_restart_after_the_moment_expires_it_at_once(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    await world.scheduler.stop()
    clock.set(campaign.launch_at + timedelta(hours=3))  # the process was down meanwhile
    await world.restart()
    assert (await world.reload(campaign)).status is CampaignStatus.EXPIRED
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["organiser.expired"]


async def test_a_restart_before_the_moment_re_arms_the_expiry(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await submit(world)
    await world.restart()
    assert sorted(world.scheduler.armed()) == [f"campaign:{campaign.id}:expire"]
    assert (await world.reload(campaign)).status is CampaignStatus.PENDING_REVIEW
