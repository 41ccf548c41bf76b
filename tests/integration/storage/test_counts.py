"""The figures and the goal decision cannot be gamed, on SQLite and PostgreSQL alike.

An account reporting an absurd follower count is stored clamped, so no sum overflows;
supporters are people (one chat identity, however many accounts it pledged); the goal
decision is taken and stored in one transaction with the status change.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.networks.x import X
from bot.domain.account import FOLLOWERS_MAX
from bot.domain.campaign import CampaignStatus, LaunchDecision, transition
from bot.domain.cards import CampaignStats
from bot.ports import Repository
from tests.integration.storage.builders import ALICE, BOB, T0, account, campaign, pledge

ABSURD = 2**63 - 1


async def _live(repo: Repository, goal: int = 2) -> int:
    stored = await repo.add_campaign(campaign(status=CampaignStatus.LIVE, goal=goal))
    assert stored.id is not None
    return stored.id


async def test_an_absurd_follower_count_is_stored_clamped_and_sums_stay_exact(
    any_repo: Repository,
) -> None:
    campaign_id = await _live(any_repo)
    huge = await any_repo.save_account(account(ALICE, "huge", followers=ABSURD))
    assert huge.followers == FOLLOWERS_MAX
    [negative] = await any_repo.save_accounts([account(BOB, "neg", followers=-5)])
    assert negative.followers == 0
    twin = await any_repo.save_account(account(BOB, "twin", network=X, followers=ABSURD))
    for linked in (huge, negative, twin):
        await any_repo.add_pledge(pledge(campaign_id, linked))
    stats = await any_repo.campaign_stats(campaign_id)
    assert (stats.supporters, stats.accounts, stats.reach) == (2, 3, 2 * FOLLOWERS_MAX)
    decided = await any_repo.decide_launch(campaign_id, T0)
    assert decided is not None and decided.launch_decision is LaunchDecision.MET


async def test_supporters_are_people_and_accounts_are_counted_apart(
    any_repo: Repository,
) -> None:
    campaign_id = await _live(any_repo)
    alices = [await any_repo.save_account(account(ALICE, f"a{n}", followers=10)) for n in range(3)]
    alices.append(await any_repo.save_account(account(ALICE, "ax", network=X)))
    bob = await any_repo.save_account(account(BOB, "b1", followers=5))
    for linked in (*alices, bob):
        await any_repo.add_pledge(pledge(campaign_id, linked))
    assert await any_repo.campaign_stats(campaign_id) == CampaignStats(
        supporters=2, accounts=5, reach=45, by_network={"mastodon": 4, "x": 1}
    )
    assert await any_repo.supporter_count(campaign_id) == 2
    assert await any_repo.supporter_count(campaign_id + 1) == 0  # no such campaign


async def test_the_goal_decision_counts_people_and_is_taken_once(any_repo: Repository) -> None:
    campaign_id = await _live(any_repo, goal=2)
    for n in range(3):  # one person, three accounts
        linked = await any_repo.save_account(account(ALICE, f"a{n}"))
        await any_repo.add_pledge(pledge(campaign_id, linked))
    at = T0 + timedelta(days=3)
    decided = await any_repo.decide_launch(campaign_id, at, late_minutes=2)
    assert decided is not None
    assert (decided.status, decided.launch_decision, decided.launch_supporters) == (
        CampaignStatus.LAUNCHING,
        LaunchDecision.MISSED,
        1,
    )
    assert decided.status_changed_at == at and decided.late_minutes == 2
    assert await any_repo.get_campaign(campaign_id) == decided
    bob = await any_repo.save_account(account(BOB, "b1"))
    await any_repo.add_pledge(pledge(campaign_id, bob))  # the goal would be met now
    again = await any_repo.decide_launch(campaign_id, at + timedelta(minutes=1))
    assert again == decided  # decided once: nothing is written again


async def test_a_launching_campaign_without_a_decision_is_decided_in_place(
    any_repo: Repository,
) -> None:
    campaign_id = await _live(any_repo, goal=1)
    stored = await any_repo.get_campaign(campaign_id)
    assert stored is not None
    launching = await any_repo.update_campaign(transition(stored, CampaignStatus.LAUNCHING, at=T0))
    assert launching.launch_decision is None  # as stored before decisions were recorded
    linked = await any_repo.save_account(account(ALICE, "a1"))
    await any_repo.add_pledge(pledge(campaign_id, linked))
    decided = await any_repo.decide_launch(campaign_id, T0 + timedelta(minutes=1))
    assert decided is not None
    assert (decided.status, decided.launch_decision, decided.launch_supporters) == (
        CampaignStatus.LAUNCHING,
        LaunchDecision.MET,
        1,
    )
    assert decided.status_changed_at == T0  # it did not change status


async def test_only_a_live_or_undecided_campaign_is_decided(any_repo: Repository) -> None:
    pending = await any_repo.add_campaign(campaign("PENDNG"))
    assert await any_repo.decide_launch(pending.id or 0, T0) == pending
    assert await any_repo.decide_launch(123456, T0) is None


async def test_two_launches_at_the_same_moment_decide_once(any_repo: Repository) -> None:
    """The row is locked while the decision is taken: the second caller sees it taken."""
    campaign_id = await _live(any_repo, goal=0)
    first, second = await asyncio.gather(
        any_repo.decide_launch(campaign_id, T0), any_repo.decide_launch(campaign_id, T0)
    )
    assert first == second
    assert first is not None and first.version == 1
    assert first.launch_decision is LaunchDecision.MET  # no minimum: always met
