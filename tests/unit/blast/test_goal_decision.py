"""The goal is decided once, with the status change, and every path that delivers obeys it.

A campaign that missed its goal must never post: not on the first run, not when a
database error stops that run and it is retried, not when the process restarts and
finds the campaign LAUNCHING. Supporters are people: one person linking several
accounts counts once.
"""

from __future__ import annotations

from bot.domain.campaign import Campaign, CampaignStatus, LaunchDecision, transition
from bot.domain.refs import UserRef
from bot.ports import Repository
from tests.fakes.clock import FakeClock
from tests.unit.blast.harness import GROUP, ORGANISER, FlakyRepository, World, make_world


async def _missed_and_told(world: World, campaign: Campaign, supporters: int) -> None:
    """Nothing was posted; the campaign is FAILED and everyone heard why, once."""
    stored = await world.reload(campaign)
    assert stored.status is CampaignStatus.FAILED
    assert stored.launch_decision is LaunchDecision.MISSED
    assert world.mastodon.attempts == [] and world.x.attempts == []
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["blast.goal_missed_organiser"]
    assert f"{supporters} of {campaign.goal} supporters" in world.texts_to(f"user:{ORGANISER.id}")
    assert world.chat.keys_to(f"chat:{GROUP.id}")[-1] == "blast.goal_missed_chat"
    assert world.scheduler.armed() == {}


async def test_a_retry_after_a_database_error_does_not_deliver_a_missed_goal(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign = await world.campaign(goal=3)
    first, _ = await world.supporter(campaign)
    await world.supporter(campaign)
    flaky.fail("campaign_stats")  # the first figures read after the launch moment
    await world.go(campaign.launch_at)
    assert flaky.failed == ["campaign_stats"]
    await _missed_and_told(world, campaign, 2)
    assert world.chat.keys_to(f"user:{first.supporter.id}")[-1] == "blast.goal_missed_supporter"


async def test_a_run_stopped_while_telling_the_goal_was_missed_tells_everyone_on_retry(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign = await world.campaign(goal=3)
    first, _ = await world.supporter(campaign)
    flaky.fail("pledges_of_campaign")  # after the decision, before the supporters hear it
    await world.go(campaign.launch_at)
    assert flaky.failed == ["pledges_of_campaign"]
    stored = await world.reload(campaign)
    assert stored.status is CampaignStatus.FAILED
    assert world.mastodon.attempts == []
    assert world.chat.keys_to(f"user:{first.supporter.id}")[-1] == "blast.goal_missed_supporter"
    assert world.chat.keys_to(f"chat:{GROUP.id}")[-1] == "blast.goal_missed_chat"


async def test_a_campaign_found_launching_at_start_up_is_decided_before_any_post(
    repo: Repository, clock: FakeClock
) -> None:
    """A crash right after LAUNCHING was stored (or a row from before decisions were)."""
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=3)
    first, _ = await world.supporter(campaign)
    await world.supporter(campaign)
    await world.scheduler.stop()
    await repo.update_campaign(
        transition(await world.reload(campaign), CampaignStatus.LAUNCHING, at=campaign.launch_at)
    )
    clock.set(campaign.launch_at)
    await world.restart()
    await _missed_and_told(world, campaign, 2)
    assert world.chat.keys_to(f"user:{first.supporter.id}")[-1] == "blast.goal_missed_supporter"


async def test_a_missed_decision_found_at_start_up_is_kept_and_nothing_posts(
    repo: Repository, clock: FakeClock
) -> None:
    """A crash after the decision was stored, before anyone was told."""
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=3)
    await world.supporter(campaign)
    await world.scheduler.stop()
    clock.set(campaign.launch_at)
    decided = await repo.decide_launch(campaign.id or 0, clock.now())
    assert decided is not None
    assert (decided.status, decided.launch_decision) == (
        CampaignStatus.LAUNCHING,
        LaunchDecision.MISSED,
    )
    assert decided.launch_supporters == 1
    for _ in range(3):  # pledges that would meet the goal now change nothing
        await world.supporter(campaign)
    await world.restart()
    await _missed_and_told(world, campaign, 1)


async def test_one_person_linking_many_accounts_does_not_reach_the_goal_alone(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=3)
    person = UserRef("test", "4242", "Mallory", "en")
    for _ in range(3):
        await world.supporter(campaign, person=person)
    stats = await repo.campaign_stats(campaign.id or 0)
    assert (stats.supporters, stats.accounts) == (1, 3)
    await world.go(campaign.launch_at)
    await _missed_and_told(world, campaign, 1)


async def test_a_met_goal_is_recorded_with_the_count_and_the_campaign_launches(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=2)
    await world.supporter(campaign)
    await world.supporter(campaign)
    await world.go(campaign.launch_at)
    stored = await world.reload(campaign)
    assert stored.status is CampaignStatus.LAUNCHED
    assert (stored.launch_decision, stored.launch_supporters) == (LaunchDecision.MET, 2)
    assert len(world.mastodon.posts) == 2
