"""The blast fetches accounts a batch at a time, just before marking the batch SENDING,
and keeps the garbage collector out of the way only while it runs.

The batches are one pledge each and there is one worker, so "later in the blast" is a
known moment: the feed keeps at most two pledges ahead of the worker.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from bot.blast.heap import BLAST_YOUNG_THRESHOLD
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.outcomes import PostOutcome
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, FlakyRepository, World, make_world

ONE_BY_ONE = {"mark_batch": 1}


def after_first_post(world: World, action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action`` once, right after the network accepted the blast's first post."""
    network = world.mastodon
    post = network.post
    done = False

    async def post_then_act(
        account: SocialAccount, text: str, idempotency_key: str
    ) -> PostOutcome:
        nonlocal done
        outcome = await post(account, text, idempotency_key)
        if not done:
            done = True
            await action()
        return outcome

    network.post = post_then_act  # type: ignore[method-assign]


async def test_an_account_relinked_during_the_blast_posts_with_the_token_stored_then(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, blast_concurrency=1, tuning=ONE_BY_ONE)
    campaign = await world.campaign()
    pairs = [await world.supporter(campaign) for _ in range(4)]
    last_pledge, last_account = pairs[-1]
    await world.go(campaign.launch_at - timedelta(minutes=5))  # prepared with the old token
    assert (await world.pledge(last_pledge)).delivery is DeliveryState.QUEUED

    async def relink() -> None:
        new = TokenSet(access_token="test-token-not-real-relinked-mid-blast")
        await repo.save_account(replace(last_account, id=None, tokens=new))
        world.mastodon.dead_tokens.add(last_account.tokens.access_token)

    after_first_post(world, relink)
    await world.go(campaign.launch_at)

    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert dict(world.mastodon.tokens_used)[last_account.id or 0] == (
        "test-token-not-real-relinked-mid-blast"
    )
    for pledge, _ in pairs:
        assert (await world.pledge(pledge)).status is PledgeStatus.POSTED
    assert len(world.mastodon.posts) == 4


async def test_a_supporter_erased_during_the_blast_is_skipped_and_the_blast_completes(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, blast_concurrency=1, tuning=ONE_BY_ONE)
    campaign = await world.campaign()
    pairs = [await world.supporter(campaign) for _ in range(4)]
    erased, erased_account = pairs[-1]
    await world.go(campaign.launch_at - timedelta(minutes=5))

    async def erase() -> None:
        await world.core.pledges.forget(erased.supporter)

    after_first_post(world, erase)
    await world.go(campaign.launch_at)

    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert erased_account.id not in {p.account_id for p in world.mastodon.posts}
    assert len(world.mastodon.posts) == 3
    assert await repo.get_pledge(erased.id or 0) is None
    assert "Posted by Chorus: 3" in world.texts_to(f"user:{ORGANISER.id}")


async def test_a_launch_without_preparation_loads_accounts_as_it_goes(
    repo: Repository, clock: FakeClock
) -> None:
    """After a restart the prepared accounts are gone: every batch loads its own."""
    world = await make_world(repo, clock, blast_concurrency=1, tuning=ONE_BY_ONE)
    campaign = await world.campaign()
    pairs = [await world.supporter(campaign) for _ in range(3)]
    await world.go(campaign.launch_at - timedelta(minutes=5))
    await world.restart()
    await world.go(campaign.launch_at)
    assert sorted(p.account_id for p in world.mastodon.posts) == sorted(
        a.id or 0 for _, a in pairs
    )


async def test_the_collector_is_frozen_during_the_blast_and_restored_after_it(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock, blast_concurrency=1, tuning=ONE_BY_ONE)
    campaign = await world.campaign()
    for _ in range(3):
        await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(minutes=5))
    before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())
    seen: list[tuple[bool, int, int]] = []

    async def look() -> None:
        seen.append((gc.isenabled(), gc.get_threshold()[0], gc.get_freeze_count()))

    after_first_post(world, look)
    # the first run stops on a database error (a later batch cannot be marked SENDING);
    # the retry finishes the blast
    first_id = min(p.id or 0 for p in await repo.pledges_of_campaign(campaign.id or 0))
    flaky.fail("set_delivery", lambda ids, *a, **k: len(ids) == 1 and ids[0] != first_id)
    await world.go(campaign.launch_at)

    assert flaky.failed == ["set_delivery"]
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert len(world.mastodon.posts) == 3
    enabled, young, frozen = seen[0]
    assert enabled and young == max(BLAST_YOUNG_THRESHOLD, before[1][0]) and frozen > 0
    assert (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()) == before
