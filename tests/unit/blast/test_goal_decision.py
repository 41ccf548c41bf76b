"""The goal is decided once, with the status change, and every path that delivers obeys it.

A campaign that missed its goal must never post: not on the first run, not when a
database error stops that run and it is retried, not when the process restarts and
finds the campaign LAUNCHING. Supporters are people: one person linking several
accounts counts once.
"""

from __future__ import annotations

import pytest

from bot.domain.campaign import Campaign, CampaignStatus, LaunchDecision, transition
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import GROUP, ORGANISER, FlakyRepository, World, make_world


async def _short_of_goal(world: World, supporters: int, goal: int = 3) -> tuple[Campaign, UserRef]:
    """A campaign needing ``goal`` supporters with ``supporters``; the first one of them."""
    campaign = await world.campaign(goal=goal)
    pledges = [(await world.supporter(campaign))[0] for _ in range(supporters)]
    return campaign, pledges[0].supporter


async def _missed_and_told(
    world: World, campaign: Campaign, supporters: int, supporter: UserRef
) -> None:
    """Nothing was posted; the campaign is FAILED and everyone heard why, once."""
    stored = await world.reload(campaign)
    assert stored.status is CampaignStatus.FAILED
    assert stored.launch_decision is LaunchDecision.MISSED
    assert world.mastodon.attempts == [] and world.x.attempts == []
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["blast.goal_missed_organiser"]
    assert f"{supporters} of {campaign.goal} supporters" in world.texts_to(f"user:{ORGANISER.id}")
    assert world.chat.keys_to(f"user:{supporter.id}")[-1] == "blast.goal_missed_supporter"
    assert world.chat.keys_to(f"chat:{GROUP.id}")[-2:] == ["blast.goal_missed_chat", "card.page"]
    assert world.scheduler.armed() == {}


async def _launch_stopped_once(
    repo: Repository, clock: FakeClock, supporters: int, failing: str
) -> tuple[World, Campaign, UserRef]:
    """Launch a campaign short of its goal; the first call of ``failing`` raises."""
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign, first = await _short_of_goal(world, supporters)
    flaky.fail(failing)
    await world.go(campaign.launch_at)
    assert flaky.failed == [failing]
    return world, campaign, first


async def test_a_retry_after_a_database_error_does_not_deliver_a_missed_goal(
    repo: Repository, clock: FakeClock
) -> None:
    # the first figures read after the launch moment fail; the launch is retried
    world, campaign, first = await _launch_stopped_once(repo, clock, 2, "campaign_stats")
    await _missed_and_told(world, campaign, 2, first)


async def test_a_run_stopped_while_telling_the_goal_was_missed_tells_everyone_on_retry(
    repo: Repository, clock: FakeClock
) -> None:
    """The organiser may hear it twice; nobody misses it, and nothing is posted."""
    # after the decision, before the supporters hear it
    world, campaign, first = await _launch_stopped_once(repo, clock, 1, "pledges_of_campaign")
    assert (await world.reload(campaign)).status is CampaignStatus.FAILED
    assert world.mastodon.attempts == []
    assert world.chat.keys_to(f"user:{first.id}") == ["blast.goal_missed_supporter"]
    assert world.chat.keys_to(f"chat:{GROUP.id}")[-2:] == ["blast.goal_missed_chat", "card.page"]


@pytest.mark.parametrize("decided", [False, True], ids=["undecided", "decided"])
async def test_a_campaign_found_launching_at_start_up_with_a_missed_goal_posts_nothing(
    repo: Repository, clock: FakeClock, decided: bool
) -> None:
    world = await make_world(repo, clock)
    campaign, first = await _short_of_goal(world, 2)
    await world.scheduler.stop()
    clock.set(campaign.launch_at)
    if decided:  # a crash after the decision was stored, before anyone was told
        await repo.decide_launch(campaign.id or 0, clock.now())
        for _ in range(3):  # pledges that would meet the goal now change nothing
            await world.supporter(campaign)
    else:  # a crash right after LAUNCHING was stored, or a row from before decisions
        stored = await world.reload(campaign)
        await repo.update_campaign(transition(stored, CampaignStatus.LAUNCHING, at=clock.now()))
    await world.restart()
    await _missed_and_told(world, campaign, 2, first)


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
    await _missed_and_told(world, campaign, 1, person)


async def test_a_met_goal_is_recorded_with_the_count_and_the_campaign_launches(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign, _ = await _short_of_goal(world, 2, goal=2)  # not short: just enough
    await world.go(campaign.launch_at)
    stored = await world.reload(campaign)
    assert stored.status is CampaignStatus.LAUNCHED
    assert (stored.launch_decision, stored.launch_supporters) == (LaunchDecision.MET, 2)
    assert len(world.mastodon.posts) == 2
