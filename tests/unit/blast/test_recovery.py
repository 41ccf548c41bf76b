"""A blast interrupted by a crash resumes on restart and posts each pledge at most once."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.x import X
from bot.domain.campaign import Campaign, CampaignStatus, transition
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, World, make_world


async def _crash_mid_blast(world: World, campaign: Campaign, sending: list[int]) -> None:
    """The state a crash leaves: campaign LAUNCHING, some pledges SENDING, the rest QUEUED."""
    await world.go(campaign.launch_at - timedelta(minutes=5))
    await world.scheduler.stop()
    fresh = await world.reload(campaign)
    await world.repo.update_campaign(
        transition(fresh, CampaignStatus.LAUNCHING, at=campaign.launch_at)
    )
    moved = await world.repo.set_delivery(
        sending, DeliveryState.SENDING, expected=DeliveryState.QUEUED
    )
    assert moved == sending
    world.clock.set(campaign.launch_at + timedelta(seconds=20))


async def test_mastodon_pledges_caught_sending_are_resent_with_the_same_key(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pairs = [await world.supporter(campaign) for _ in range(4)]
    landed, lost = pairs[0], pairs[1]  # the other two are still QUEUED at the crash
    await _crash_mid_blast(world, campaign, [landed[0].id or 0, lost[0].id or 0])
    # the first request reached Mastodon before the crash; the second never left
    await world.mastodon.post(landed[1], campaign.message, f"chorus-{landed[0].id}")
    await world.restart()
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    for pledge, account in pairs:
        assert len(world.mastodon.posts_of(account.id or 0)) == 1, pledge.id
        assert (await world.pledge(pledge)).status is PledgeStatus.POSTED
    # the server saw the landed key twice and deduplicated it
    keys = [account_id for account_id, _ in world.mastodon.attempts]
    assert keys.count(landed[1].id) == 2
    assert "Posted by Chorus: 4" in world.texts_to(f"user:{ORGANISER.id}")


async def test_x_pledges_caught_sending_are_looked_up_before_any_resend(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, x_delivery="auto")
    campaign = await world.campaign(networks=(X,))
    landed, landed_account = await world.supporter(campaign, network=X)
    lost, lost_account = await world.supporter(campaign, network=X)
    await _crash_mid_blast(world, campaign, [landed.id or 0, lost.id or 0])
    await world.x.post(landed_account, campaign.message, f"chorus-{landed.id}")
    await world.restart()
    assert len(world.x.posts_of(landed_account.id or 0)) == 1
    assert len(world.x.posts_of(lost_account.id or 0)) == 1
    assert [a for a, _ in world.x.attempts].count(landed_account.id) == 1  # not re-sent
    recovered = await world.pledge(landed)
    assert recovered.status is PledgeStatus.POSTED
    assert recovered.remote_post_id == world.x.posts_of(landed_account.id or 0)[0].remote_id
    assert (await world.pledge(lost)).status is PledgeStatus.POSTED


async def test_a_second_sync_during_a_blast_does_not_start_it_twice(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, latency=0.01)
    campaign = await world.campaign()
    for _ in range(10):
        await world.supporter(campaign)
    clock.set(campaign.launch_at)
    await world.scheduler.sync()
    await world.scheduler.sync()
    await world.scheduler.wait_idle()
    assert len(world.mastodon.posts) == 10
    assert len(world.mastodon.attempts) == 10
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 1
