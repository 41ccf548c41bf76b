"""Each way a post can fail, and what the blast does about it."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.x import X
from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, make_world


async def test_a_revoked_token_fails_the_pledge_once_and_marks_the_account(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    world.mastodon.script_kind(account.id or 0, OutcomeKind.REVOKED)
    await world.go(campaign.launch_at)
    stored = await world.pledge(pledge)
    assert (stored.status, stored.failure_reason) == (PledgeStatus.FAILED, "revoked")
    assert stored.delivery is DeliveryState.DONE
    assert world.mastodon.attempts == [(account.id, "revoked")]  # never retried
    revoked = await repo.get_account(account.id or 0)
    assert revoked is not None and revoked.revoked
    assert "access revoked: 1" in world.texts_to(f"user:{ORGANISER.id}")


async def test_rejected_content_is_not_retried(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    world.mastodon.script_kind(account.id or 0, OutcomeKind.REJECTED)
    await world.go(campaign.launch_at)
    assert world.mastodon.attempts == [(account.id, "rejected")]
    assert (await world.pledge(pledge)).failure_reason == "rejected"
    revoked = await repo.get_account(account.id or 0)
    assert revoked is not None and not revoked.revoked


async def test_a_rate_limit_is_waited_out_until_its_reset_then_the_post_goes(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    reset = campaign.launch_at + timedelta(seconds=0.05)
    world.mastodon.script(
        account.id or 0, PostOutcome(OutcomeKind.RATE_LIMITED, retry_at=reset, reason="429")
    )
    await world.go(campaign.launch_at)
    assert world.mastodon.attempts == [(account.id, "rate_limited"), (account.id, "posted")]
    assert (await world.pledge(pledge)).status is PledgeStatus.POSTED


async def test_a_rate_limit_resetting_beyond_the_retry_window_fails_the_pledge(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, blast_retry_window_seconds=5)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    reset = campaign.launch_at + timedelta(minutes=15)
    world.mastodon.script(account.id or 0, PostOutcome(OutcomeKind.RATE_LIMITED, retry_at=reset))
    await world.go(campaign.launch_at)
    assert world.mastodon.attempts == [(account.id, "rate_limited")]
    assert (await world.pledge(pledge)).failure_reason == "rate_limited"
    assert "network rate limit: 1" in world.texts_to(f"user:{ORGANISER.id}")


async def test_a_network_down_is_retried_with_backoff_then_succeeds(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    world.mastodon.script_kind(account.id or 0, OutcomeKind.NETWORK_DOWN, times=3)
    await world.go(campaign.launch_at)
    assert [kind for _, kind in world.mastodon.attempts] == ["network_down"] * 3 + ["posted"]
    assert (await world.pledge(pledge)).status is PledgeStatus.POSTED


async def test_a_network_down_beyond_the_window_fails_with_its_reason(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, blast_retry_window_seconds=0)
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    ok, _ = await world.supporter(campaign)
    world.mastodon.script_kind(account.id or 0, OutcomeKind.NETWORK_DOWN, times=50)
    await world.go(campaign.launch_at)
    stored = await world.pledge(pledge)
    assert (stored.status, stored.failure_reason) == (PledgeStatus.FAILED, "network_down")
    assert (await world.pledge(ok)).status is PledgeStatus.POSTED
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Failed: 1" in report and "network unreachable: 1" in report


async def test_on_x_a_timeout_that_actually_posted_is_not_posted_twice(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, x_delivery="auto")
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign, network=X)
    # the post lands but the answer is lost: the blast must look before re-sending
    world.x.script(account.id or 0, PostOutcome(OutcomeKind.NETWORK_DOWN, reason="landed"))
    await world.go(campaign.launch_at)
    assert len(world.x.posts_of(account.id or 0)) == 1
    stored = await world.pledge(pledge)
    assert stored.status is PledgeStatus.POSTED
    assert stored.remote_post_id == world.x.posts[0].remote_id
