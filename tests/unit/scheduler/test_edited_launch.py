"""The scheduler follows an organiser's edit: a moved launch re-arms every timer at the new
moment; a campaign sent back to moderation keeps only its expiry; one whose changes were
requested expires at its launch moment like any campaign waiting for review."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from bot.dialog import CampaignDraft
from bot.domain.campaign import CampaignStatus
from bot.ports import Repository
from bot.scheduler.events import AFTER_LAUNCH, BEFORE_LAUNCH
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import MESSAGE, ORGANISER, make_world


async def test_a_moved_launch_re_arms_the_timers(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    before = world.scheduler.armed()[f"campaign:{campaign.id}:launch"]
    later = campaign.launch_at + timedelta(days=2)
    await world.core.chat.edits.edit(
        campaign.ref, ORGANISER, "launch", later.strftime("%Y-%m-%d %H:%M")
    )
    armed = world.scheduler.armed()
    moved = armed[f"campaign:{campaign.id}:launch"] - before  # real-time run dates
    assert round(moved.total_seconds() / 60) == 2 * 24 * 60
    every = {f"campaign:{campaign.id}:{event.value}" for event in BEFORE_LAUNCH | AFTER_LAUNCH}
    assert set(armed) == every  # every event, at its new moment

    soon = clock.now() + timedelta(hours=3)
    await world.core.chat.edits.edit(
        campaign.ref, ORGANISER, "launch", soon.strftime("%Y-%m-%d %H:%M")
    )
    assert list(world.scheduler.armed()) == [f"campaign:{campaign.id}:expire"]


async def test_a_campaign_left_with_changes_requested_expires(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    draft = CampaignDraft(
        "Save the bees", MESSAGE, 0, clock.now() + timedelta(days=2), (MASTODON,)
    )
    campaign = await world.core.campaigns.submit(draft, ORGANISER)
    assert campaign.id is not None
    asked = await world.core.moderation.request_changes(
        campaign.id, ORGANISER, "Shorter", may_moderate=True
    )
    assert list(world.scheduler.armed()) == [f"campaign:{campaign.id}:expire"]
    await world.go(asked.launch_at + timedelta(minutes=1))
    assert (await world.core.campaigns.get(campaign.ref)).status is CampaignStatus.EXPIRED
