"""The whole blast on each storage back end (SQLite and PostgreSQL): the batched delivery
writes (``set_delivery`` with ``expected``, ``record_deliveries``) and the account change
markers (``account_stamps``) behave the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.account import TokenSet
from bot.domain.campaign import CampaignStatus, transition
from bot.domain.outcomes import OutcomeKind
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, make_world


async def test_a_mixed_blast_interrupted_and_resumed(any_repo: Repository) -> None:
    clock = FakeClock()
    world = await make_world(any_repo, clock, x_delivery="tap")
    campaign = await world.campaign(networks=(MASTODON, X))
    autos = [await world.supporter(campaign, followers=10) for _ in range(6)]
    revoked_pledge, revoked_account = await world.supporter(campaign)
    world.mastodon.script_kind(revoked_account.id or 0, OutcomeKind.REVOKED)
    tapper, tapper_account = await world.supporter(campaign, network=X, followers=5)
    await world.go(campaign.launch_at - timedelta(minutes=5))

    # crash: launching, two Mastodon pledges caught SENDING, one of which had landed
    await world.scheduler.stop()
    await any_repo.update_campaign(
        transition(await world.reload(campaign), CampaignStatus.LAUNCHING, at=campaign.launch_at)
    )
    caught = [autos[0][0].id or 0, autos[1][0].id or 0]
    assert (
        await any_repo.set_delivery(caught, DeliveryState.SENDING, expected=DeliveryState.QUEUED)
        == caught
    )
    assert (
        await any_repo.set_delivery(caught, DeliveryState.SENDING, expected=DeliveryState.QUEUED)
        == []
    )
    await world.mastodon.post(autos[0][1], campaign.message, f"chorus-{autos[0][0].id}")
    clock.set(campaign.launch_at + timedelta(seconds=5))
    await world.restart()

    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert sorted(p.account_id for p in world.mastodon.posts) == sorted(a.id for _, a in autos)
    assert (await world.pledge(revoked_pledge)).failure_reason == "revoked"
    assert (await world.pledge(tapper)).delivery is DeliveryState.TAP_OFFERED

    world.x.user_posts(tapper_account, campaign.message, at=campaign.launch_at)
    await world.go(campaign.launch_at + timedelta(hours=2))
    assert (await world.pledge(tapper)).status is PledgeStatus.POSTED
    stats = await any_repo.campaign_stats(campaign.id or 0)
    assert (stats.posted, stats.failed, stats.posted_reach) == (7, 1, 65)
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted by Chorus: 6" in report
    assert "Posted with one tap: 1 · not posted: 0" in report
    assert "access revoked: 1" in report


async def test_account_stamps_change_with_tokens_and_revocation_only(
    any_repo: Repository,
) -> None:
    clock = FakeClock()
    world = await make_world(any_repo, clock)
    campaign = await world.campaign()
    _, account = await world.supporter(campaign)
    _, other = await world.supporter(campaign)
    ids = [account.id or 0, other.id or 0]
    first = await any_repo.account_stamps(ids)
    assert set(first) == set(ids)
    assert await any_repo.account_stamps(ids) == first  # reading changes nothing

    await any_repo.update_tokens(account.id or 0, TokenSet("test-token-not-real-refreshed"))
    refreshed = await any_repo.account_stamps(ids)
    assert refreshed[account.id or 0] != first[account.id or 0]
    assert refreshed[other.id or 0] == first[other.id or 0]

    await any_repo.mark_account_revoked(other.id or 0)
    revoked = await any_repo.account_stamps(ids)
    assert revoked[other.id or 0] != refreshed[other.id or 0]

    # linked again with the very same token: still a new stamp (and no longer revoked)
    await any_repo.save_account(replace(other, id=None, linked_at=clock.now()))
    relinked = await any_repo.account_stamps(ids)
    assert relinked[other.id or 0] not in (revoked[other.id or 0], first[other.id or 0])

    await world.core.pledges.forget(other.owner)
    assert set(await any_repo.account_stamps(ids)) == {account.id}
