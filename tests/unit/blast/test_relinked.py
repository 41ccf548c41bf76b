"""Accounts that change between the preparation and the launch post with what is stored
at the launch, not with what the preparation loaded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.account import TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import make_world


async def test_an_account_relinked_after_the_preparation_posts_with_its_new_token(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    relinked, old = await world.supporter(campaign)
    steady, steady_account = await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(minutes=5))
    assert (await world.pledge(relinked)).delivery is DeliveryState.QUEUED

    # the supporter links the same account again: the old grant is gone at the network
    new = TokenSet(access_token="test-token-not-real-relinked")
    await repo.save_account(replace(old, id=None, tokens=new, linked_at=clock.now()))
    world.mastodon.dead_tokens.add(old.tokens.access_token)
    await world.go(campaign.launch_at)

    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert (await world.pledge(relinked)).status is PledgeStatus.POSTED
    assert (await world.pledge(steady)).status is PledgeStatus.POSTED
    assert dict(world.mastodon.tokens_used) == {
        old.id: "test-token-not-real-relinked",
        steady_account.id: steady_account.tokens.access_token,
    }
    stored = await repo.get_account(old.id or 0)
    assert stored is not None and not stored.revoked  # the fresh link stays usable
