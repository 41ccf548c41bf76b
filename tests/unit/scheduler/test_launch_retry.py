"""A launch run stopped by a database error is run again with backoff, and still posts
every pledge at most once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.blast import RetryPolicy
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, FlakyRepository, make_world


def _moving(state: DeliveryState, ids: Sequence[int] | None = None) -> Any:
    """A ``set_delivery`` call moving pledges to ``state`` (only one of ``ids``, if given)."""

    def matches(pledge_ids: Sequence[int], target: DeliveryState, **_: Any) -> bool:
        return target is state and (ids is None or bool(set(pledge_ids) & set(ids)))

    return matches


async def test_a_launch_stopped_by_the_database_is_retried_until_it_launches(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign = await world.campaign()
    pairs = [await world.supporter(campaign) for _ in range(3)]
    flaky.fail("decide_launch")  # before LAUNCHING (and the goal decision) is stored
    flaky.fail("set_delivery", _moving(DeliveryState.SENDING))  # in the middle of the blast
    await world.go(campaign.launch_at)
    assert flaky.failed == ["decide_launch", "set_delivery"]
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    for pledge, account in pairs:
        assert len(world.mastodon.posts_of(account.id or 0)) == 1
        assert (await world.pledge(pledge)).status is PledgeStatus.POSTED
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 1


async def test_retries_are_bounded_and_the_next_sync_resumes(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock, tuning={"launch_retries": 2})
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    for _ in range(3):  # the first run and both retries
        flaky.fail("set_delivery", _moving(DeliveryState.SENDING))
    await world.go(campaign.launch_at)
    assert flaky.failed == ["set_delivery"] * 3
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHING
    assert world.mastodon.posts == []
    await world.go(campaign.launch_at)  # the database is back: the next sync resumes
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert len(world.mastodon.posts_of(account.id or 0)) == 1
    assert (await world.pledge(pledge)).status is PledgeStatus.POSTED


async def test_a_failed_run_is_stopped_before_the_retry_so_nothing_posts_twice(
    repo: Repository, clock: FakeClock
) -> None:
    """X has no idempotency key: a retry overlapping posts still in flight would repeat them."""
    flaky = FlakyRepository(repo)
    world = await make_world(
        flaky,
        clock,
        latency=0.3,
        x_delivery="auto",
        tuning={"launch_retry": RetryPolicy(base_seconds=0.1, cap_seconds=0.1, jitter=0)},
    )
    campaign = await world.campaign(networks=(X, MASTODON))
    xs = [await world.supporter(campaign, network=X) for _ in range(3)]
    toot, _ = await world.supporter(campaign)
    # the Mastodon sender trips on the database while the X posts are in flight
    flaky.fail("set_delivery", _moving(DeliveryState.SENDING, [toot.id or 0]))
    await world.go(campaign.launch_at)
    assert flaky.failed == ["set_delivery"]
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    for pledge, account in xs:
        assert len(world.x.posts_of(account.id or 0)) == 1, pledge.id
        stored = await world.pledge(pledge)
        assert (stored.status, stored.delivery) == (PledgeStatus.POSTED, DeliveryState.DONE)
    assert (await world.pledge(toot)).status is PledgeStatus.POSTED
