"""The shared blast's batches: split at the launch, claimed under a lease, on both back
ends; and on PostgreSQL two workers in one test process on separate connection pools (as
two processes would be) share a launch, take over a dead worker's batch, reconcile its
pledges caught mid-request, and post each pledge once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.blast.accounts import borrow
from bot.blast.policy import BlastTuning
from bot.blast.worker import BlastWorker
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import Network
from bot.domain.outcomes import PostOutcome
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus
from bot.ports import BlastQueue, Repository
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.blast_queue import PostgresBlastQueue, open_blast_queue
from storage.postgres import PostgresRepository
from tests.integration.storage.builders import campaign
from tests.unit.blast.harness import FAST_TUNING, ORGANISER, World, make_world

DEAD = -1.0  # a lease that has run out already: the claim of a process that died

TUNING = replace(FAST_TUNING, mark_batch=7, lease_seconds=3.0, poll_seconds=0.05)


def worker_of(
    world: World, repo: Repository, queue: BlastQueue, *, concurrency: int, tuning: BlastTuning
) -> BlastWorker:
    """A worker of the shared blast on ``repo``, as a process of ``world`` would run it."""
    return BlastWorker(
        repo=repo,
        queue=queue,
        registry=world.core.registry,
        clock=world.clock,
        concurrency=concurrency,
        retry_window_seconds=5,
        tuning=tuning,
    )


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check`` holds (a guard against hanging, not a measure of speed)."""
    async with asyncio.timeout(60):
        while True:
            if await check():
                return
            await asyncio.sleep(0.01)


async def test_batches_are_split_once_claimed_once_and_finished_by_their_owner(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    queue = open_blast_queue(any_repo)
    assert await queue.split(stored.id, list(range(1, 11)), 4) == 3
    assert await queue.split(stored.id, list(range(1, 11)), 4) == 0  # a resumed launch
    assert await queue.unfinished(stored.id) == 3

    first = await queue.claim("one", 60)
    second = await queue.claim("two", 60)
    assert first is not None and second is not None
    assert (first.pledge_ids, second.pledge_ids) == ((1, 2, 3, 4), (5, 6, 7, 8))
    assert not first.reclaimed
    assert not await queue.renew(first.id, "two", 60)  # not its batch
    assert not await queue.finish(first.id, "two")
    assert await queue.renew(first.id, "one", 60)
    assert await queue.finish(first.id, "one")
    assert not await queue.finish(first.id, "one")  # done is done
    assert await queue.unfinished(stored.id) == 2

    last = await queue.claim("one", DEAD)  # its process dies with the batch
    assert last is not None and last.pledge_ids == (9, 10)
    taken = await queue.claim("three", 60)
    assert taken is not None and taken.id == last.id and taken.reclaimed
    assert not await queue.renew(last.id, "one", 60)  # the dead owner is fenced off
    assert not await queue.finish(last.id, "one")
    assert await queue.claim("four", 60) is None  # the live lease holds
    assert await queue.finish(second.id, "two") and await queue.finish(taken.id, "three")
    assert await queue.unfinished(stored.id) == 0
    assert await queue.claim("four", 60) is None
    # a second launch run of the campaign batches only what no batch holds yet
    assert await queue.split(stored.id, [9, 10, 11, 12, 12], 4) == 1
    extra = await queue.claim("four", 60)
    assert extra is not None and (extra.number, extra.pledge_ids) == (3, (11, 12))
    assert not await queue.release(extra.id, "one")  # not its batch
    assert await queue.release(extra.id, "four")  # a graceful stop gives it back
    again = await queue.claim("five", 60)
    assert again is not None and again.id == extra.id and again.reclaimed
    assert await queue.finish(again.id, "five")
    with pytest.raises(ValueError, match="at least one pledge"):
        await queue.split(stored.id + 1, [1], 0)
    await queue.close()


@pytest.fixture
async def two_processes(
    postgres_schema_url: str, cipher: TokenCipher
) -> AsyncIterator[tuple[PostgresRepository, PostgresRepository]]:
    """Two repositories on one PostgreSQL schema, each with its own connection pool."""
    first = await open_repository(postgres_schema_url, cipher)
    second = await open_repository(postgres_schema_url, cipher)
    assert isinstance(first, PostgresRepository) and isinstance(second, PostgresRepository)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_two_workers_claim_every_batch_and_none_twice(
    two_processes: tuple[PostgresRepository, PostgresRepository],
) -> None:
    repo_a, repo_b = two_processes
    stored = await repo_a.add_campaign(campaign())
    assert stored.id is not None
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    assert await queue_a.split(stored.id, list(range(1, 201)), 1) == 200

    async def drain(queue: PostgresBlastQueue, owner: str) -> list[int]:
        taken = []
        while (batch := await queue.claim(owner, 60)) is not None:
            taken.extend(batch.pledge_ids)
            await asyncio.sleep(0)  # let the other one in between claims
        return taken

    a, b = await asyncio.gather(drain(queue_a, "a"), drain(queue_b, "b"))
    assert a and b  # both took work
    assert sorted(a + b) == list(range(1, 201))  # every batch, none twice


@pytest.mark.postgres
async def test_a_notification_wakes_an_idle_worker(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    repo_a, repo_b = two_processes
    stored = await repo_a.add_campaign(campaign())  # not launching: its batches post nothing
    assert stored.id is not None
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    world = await make_world(repo_b, clock)
    never_polls = replace(TUNING, poll_seconds=3600)  # not again in this test
    idle = worker_of(world, repo_b, queue_b, concurrency=2, tuning=never_polls)
    await queue_b.listen()
    await idle.start()
    try:
        assert await queue_a.split(stored.id, [1, 2, 3], 2) == 2

        async def both_done() -> bool:
            return idle.batches_done == 2

        await eventually(both_done)  # it polls once an hour: the notification woke it
        assert await queue_a.unfinished(stored.id) == 0
    finally:
        await idle.stop()
        await world.scheduler.stop()
        await queue_b.close()


@pytest.mark.postgres
async def test_a_launch_shared_by_two_workers_survives_a_dead_one(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    repo_a, repo_b = two_processes
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    world = await make_world(
        repo_a, clock, tuning=vars(TUNING), blast_queue=queue_a, x_delivery="auto"
    )
    launched = await world.campaign(networks=(MASTODON, X))
    assert launched.id is not None
    people = [await world.supporter(launched, network=MASTODON if n % 2 else X) for n in range(40)]
    by_pledge = {pledge.id: (pledge, account) for pledge, account in people}
    await world.go(launched.launch_at - timedelta(minutes=5))  # prepared: all QUEUED

    launch = asyncio.create_task(world.go(launched.launch_at))

    async def split() -> bool:
        return bool(await queue_b.unfinished(launched.id or 0))

    await eventually(split)  # the launch splits, then waits for the workers

    # a third process claims a batch, marks it SENDING, posts part of it and dies
    dead = await queue_b.claim("dead", DEAD)
    assert dead is not None
    caught = await repo_b.set_delivery(
        list(dead.pledge_ids), DeliveryState.SENDING, expected=DeliveryState.QUEUED
    )
    assert sorted(caught) == sorted(dead.pledge_ids)
    current = await world.reload(launched)
    for pledge_id in caught[::2]:  # these landed before it died
        pledge, account = by_pledge[pledge_id]
        network = world.mastodon if pledge.network == MASTODON else world.x
        await network.post(account, pledge.text(current), f"chorus-{pledge_id}")

    workers = [
        worker_of(world, repo, queue, concurrency=4, tuning=TUNING)
        for repo, queue in ((repo_a, queue_a), (repo_b, queue_b))
    ]
    for worker in workers:
        await worker.start()
    try:
        async with asyncio.timeout(120):
            await launch
    finally:
        for worker in workers:
            await worker.stop()
        await world.scheduler.stop()
        await queue_a.close()
        await queue_b.close()

    assert (await world.reload(launched)).status is CampaignStatus.LAUNCHED
    assert sum(worker.batches_done for worker in workers) == 6  # ceil(40 / 7), the dead one's too
    keys = Counter(post.idempotency_key for post in world.mastodon.posts + world.x.posts)
    assert set(keys) == {f"chorus-{pledge_id}" for pledge_id in by_pledge}
    assert set(keys.values()) == {1}  # every pledge posted exactly once at the networks
    stored = await repo_a.pledges_of_campaign(launched.id)
    assert {p.status for p in stored} == {PledgeStatus.POSTED}
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert report.count("Posted by Chorus: 40") == 1  # the report, once, after every batch


@pytest.mark.postgres
async def test_a_stopped_worker_gives_its_batch_back_to_the_others(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    repo_a, repo_b = two_processes
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    slow = replace(TUNING, mark_batch=50, lease_seconds=3600)  # only a release frees it
    world = await make_world(repo_a, clock, latency=0.05, tuning=vars(slow), blast_queue=queue_a)
    launched = await world.campaign()
    assert launched.id is not None
    people = [await world.supporter(launched) for _ in range(40)]
    await world.go(launched.launch_at - timedelta(minutes=5))
    launch = asyncio.create_task(world.go(launched.launch_at))

    def worker(repo: PostgresRepository, queue: PostgresBlastQueue) -> BlastWorker:
        return worker_of(world, repo, queue, concurrency=2, tuning=slow)

    stopping, finishing = worker(repo_b, queue_b), worker(repo_a, queue_a)
    await stopping.start()

    async def posting() -> bool:
        return bool(world.mastodon.posts)

    await eventually(posting)  # its one batch is half way
    await stopping.stop()  # SIGTERM: the batch is given back, not left to its lease
    await finishing.start()
    try:
        async with asyncio.timeout(120):
            await launch
    finally:
        await finishing.stop()
        await world.scheduler.stop()
        await queue_a.close()
        await queue_b.close()
    assert (stopping.batches_done, finishing.batches_done) == (0, 1)
    keys = Counter(post.idempotency_key for post in world.mastodon.posts)
    assert set(keys) == {f"chorus-{pledge.id}" for pledge, _ in people}
    assert set(keys.values()) == {1}
    assert (await world.reload(launched)).status is CampaignStatus.LAUNCHED


@pytest.mark.postgres
async def test_the_first_batches_are_claimable_before_the_split_is_finished(
    two_processes: tuple[PostgresRepository, PostgresRepository],
) -> None:
    repo_a, repo_b = two_processes
    stored = await repo_a.add_campaign(campaign())
    assert stored.id is not None
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    queue_a.part = 1  # one commit per batch after the first part: a long split
    splitting = asyncio.create_task(queue_a.split(stored.id, list(range(1, 401)), 1))
    while (first := await queue_b.claim("early", 60)) is None:
        assert not splitting.done()
    assert not splitting.done()  # posting starts while the rest are written
    assert (first.number, first.pledge_ids) == (0, (1,))
    assert await splitting == 400
    assert await queue_b.unfinished(stored.id) == 400


@pytest.mark.postgres
async def test_two_concurrent_splits_of_one_campaign_batch_no_pledge_twice(
    two_processes: tuple[PostgresRepository, PostgresRepository],
) -> None:
    repo_a, repo_b = two_processes
    stored = await repo_a.add_campaign(campaign())
    assert stored.id is not None
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    queue_a.first_part = queue_b.first_part = queue_a.part = queue_b.part = 1  # interleaved
    made = await asyncio.gather(
        queue_a.split(stored.id, list(range(1, 301)), 7),
        queue_b.split(stored.id, list(range(450, 150, -1)), 7),
    )
    taken: list[int] = []
    numbers: list[int] = []
    while (batch := await queue_a.claim("one", 60)) is not None:
        taken.extend(batch.pledge_ids)
        numbers.append(batch.number)
    assert sorted(taken) == list(range(1, 451))  # every pledge in one batch, none twice
    assert sorted(numbers) == list(range(sum(made)))
    assert all(made)  # both wrote batches: they did interleave


async def launch_with_own_worker(
    world: World, repo: PostgresRepository, queue: PostgresBlastQueue, at: datetime
) -> BlastWorker:
    """Run the launch with this process's worker (as ``chorus run`` does), to the end."""
    worker = worker_of(world, repo, queue, concurrency=1, tuning=world.tuning)
    await queue.listen()
    await worker.start()
    try:
        async with asyncio.timeout(120):
            await world.go(at)
    finally:
        await worker.stop()
        await world.scheduler.stop()
        await queue.close()
    return worker


@pytest.mark.postgres
async def test_the_launch_lends_its_accounts_to_its_worker_and_a_relink_still_wins(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    repo, _ = two_processes
    queue = PostgresBlastQueue(repo)
    world = await make_world(
        repo, clock, tuning={**vars(TUNING), "mark_batch": 1}, blast_queue=queue
    )
    launched = await world.campaign()
    assert launched.id is not None
    pairs = [await world.supporter(launched) for _ in range(4)]
    last_account = pairs[-1][1]
    await world.go(launched.launch_at - timedelta(minutes=5))  # prepared with the old token
    lent: list[bool] = []
    post = world.mastodon.post

    async def post_then_relink(
        account: SocialAccount, text: str, idempotency_key: str
    ) -> PostOutcome:
        outcome = await post(account, text, idempotency_key)
        if not lent:  # after the first post: the worker holds the launch's accounts
            lent.append(borrow(queue, launched.id or 0) is not None)
            new = TokenSet(access_token="test-token-not-real-relinked-mid-blast")
            await repo.save_account(replace(last_account, id=None, tokens=new))
            world.mastodon.dead_tokens.add(last_account.tokens.access_token)
        return outcome

    world.mastodon.post = post_then_relink  # type: ignore[method-assign]
    worker = await launch_with_own_worker(world, repo, queue, launched.launch_at)

    assert lent == [True]
    assert borrow(queue, launched.id) is None  # taken back when every batch was done
    assert worker.batches_done == 4
    assert (await world.reload(launched)).status is CampaignStatus.LAUNCHED
    assert dict(world.mastodon.tokens_used)[last_account.id or 0] == (
        "test-token-not-real-relinked-mid-blast"
    )
    keys = Counter(post.idempotency_key for post in world.mastodon.posts)
    assert set(keys) == {f"chorus-{pledge.id}" for pledge, _ in pairs}
    assert set(keys.values()) == {1}


@pytest.mark.postgres
async def test_pledges_made_after_the_preparation_are_split_once(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    """Pledges made after the preparation are queued at the launch; the split takes
    what is stored then too, and batches each pledge once."""
    repo, _ = two_processes
    queue = PostgresBlastQueue(repo)
    world = await make_world(repo, clock, tuning=vars(TUNING), blast_queue=queue)
    launched = await world.campaign()
    assert launched.id is not None
    pairs = [await world.supporter(launched) for _ in range(6)]
    await world.go(launched.launch_at - timedelta(minutes=5))
    late = [await world.supporter(launched) for _ in range(4)]  # WAITING at the launch
    assert (await world.pledge(late[0][0])).delivery is DeliveryState.WAITING
    pairs += late
    worker = await launch_with_own_worker(world, repo, queue, launched.launch_at)

    assert worker.batches_done == 2  # ceil(10 / 7)
    assert (await world.reload(launched)).status is CampaignStatus.LAUNCHED
    keys = Counter(post.idempotency_key for post in world.mastodon.posts)
    assert set(keys) == {f"chorus-{pledge.id}" for pledge, _ in pairs}
    assert set(keys.values()) == {1}


@pytest.mark.postgres
async def test_a_worker_posts_two_batches_at_once_within_its_concurrency(
    two_processes: tuple[PostgresRepository, PostgresRepository], clock: FakeClock
) -> None:
    repo_a, repo_b = two_processes
    queue_a, queue_b = PostgresBlastQueue(repo_a), PostgresBlastQueue(repo_b)
    world = await make_world(
        repo_a, clock, latency=0.05, tuning={**vars(TUNING), "mark_batch": 10}, blast_queue=queue_a
    )
    launched = await world.campaign()
    assert launched.id is not None
    people = [await world.supporter(launched) for _ in range(20)]
    await world.go(launched.launch_at - timedelta(minutes=5))
    flying, most = 0, 0
    post = world.mastodon.post

    async def counted(account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        nonlocal flying, most
        flying += 1
        most = max(most, flying)
        try:
            return await post(account, text, idempotency_key)
        finally:
            flying -= 1

    world.mastodon.post = counted  # type: ignore[method-assign]
    launch = asyncio.create_task(world.go(launched.launch_at))
    worker = worker_of(world, repo_a, queue_a, concurrency=2, tuning=world.tuning)
    await worker.start()

    async def posting() -> bool:
        return bool(world.mastodon.posts)

    try:
        await eventually(posting)
        assert await queue_b.claim("other", 60) is None  # it holds both batches
        async with asyncio.timeout(120):
            await launch
    finally:
        await worker.stop()
        await world.scheduler.stop()
        await queue_a.close()
        await queue_b.close()
    assert worker.batches_done == 2
    assert most == 2  # one request per batch: the worker's concurrency, shared
    keys = Counter(post.idempotency_key for post in world.mastodon.posts)
    assert set(keys) == {f"chorus-{pledge.id}" for pledge, _ in people}
    assert set(keys.values()) == {1}


async def test_a_shared_launch_hands_its_auto_posts_over_and_plans_the_rest(
    any_repo: Repository, clock: FakeClock
) -> None:
    """The launch gives the workers the auto pledges ready to post by id, before it
    loads anything; what it still loads and plans itself comes out as before: a pledge
    made after the preparation is prepared and posted, tap pledges are offered, and one
    queued for a network no longer configured fails."""
    queue = open_blast_queue(any_repo)
    world = await make_world(any_repo, clock, tuning=vars(TUNING), blast_queue=queue)
    launched = await world.campaign(networks=(MASTODON, X))
    assert launched.id is not None
    auto = [(await world.supporter(launched))[0] for _ in range(10)]
    taps = [(await world.supporter(launched, network=X))[0] for _ in range(3)]
    await world.go(launched.launch_at - timedelta(minutes=5))  # prepared: QUEUED
    late, _ = await world.supporter(launched)  # WAITING at the launch
    gone = Network("gone")
    stray = await any_repo.save_account(
        SocialAccount(
            owner=ORGANISER,
            network=gone,
            instance="gone.example",
            remote_id="1",
            handle="stray",
            followers=1,
            tokens=TokenSet(access_token="test-token-not-real-gone"),
            linked_at=clock.now(),
        )
    )
    assert stray.id is not None
    stranded = await any_repo.add_pledge(
        Pledge(
            campaign_id=launched.id,
            supporter=ORGANISER,
            account_id=stray.id,
            network=gone,
            created_at=clock.now(),
            delivery=DeliveryState.QUEUED,
        )
    )
    heads = await any_repo.delivery_heads(launched.id)
    assert [h.id for h in heads] == sorted(p.id or 0 for p in (*auto, *taps, late, stranded))
    worker = worker_of(world, any_repo, queue, concurrency=4, tuning=TUNING)
    await worker.start()
    try:
        async with asyncio.timeout(60):
            await world.go(launched.launch_at)
    finally:
        await worker.stop()
        await world.scheduler.stop()
        await queue.close()

    keys = Counter(post.idempotency_key for post in world.mastodon.posts)
    assert keys == Counter(f"chorus-{p.id}" for p in (*auto, late))  # each once
    assert not world.x.posts
    for tap in taps:
        assert (await world.pledge(tap)).delivery is DeliveryState.TAP_OFFERED
    assert (await world.pledge(stranded)).status is PledgeStatus.FAILED
    left = await any_repo.delivery_heads(launched.id)  # only the offers wait, for their taps
    assert [(h.id, h.delivery) for h in left] == [(p.id, DeliveryState.TAP_OFFERED) for p in taps]
