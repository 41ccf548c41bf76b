"""The blast on its own thread, on an SQLite file: the launch (main loop) splits into
batches, the thread's worker (its own connection, network sessions and queue, opened by
``bot.runtime.start_blast_worker`` as ``chorus run`` does) claims and posts them to the
loopback Mastodon, each pledge once, and the report follows; stopped mid-blast, the
thread gives its batch back and the next worker finishes it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.networks.mastodon import MASTODON
from bot.app import Chorus
from bot.blast.policy import BlastTuning
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge, PledgeStatus
from bot.ports import BlastQueue, Repository
from bot.runtime import (
    ThreadedBlastWorker,
    build_networks,
    open_process_blast_queue,
    start_blast_worker,
)
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.blast_queue import open_blast_queue
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.storage.builders import campaign as a_campaign
from tests.unit.blast.harness import FAST_TUNING, MESSAGE, ORGANISER, SECRET, build_world_core

GUARD = 120.0  # seconds: against hanging, not a measure of speed
TUNING = replace(FAST_TUNING, mark_batch=7, poll_seconds=0.05, lease_seconds=3.0)


@dataclass
class Setup:
    url: str
    settings: Settings
    repo: Repository
    queue: BlastQueue
    core: Chorus
    chat: RecordingFrontEnd
    fake: FakeMastodon
    clock: FakeClock
    tuning: BlastTuning

    async def worker(self, stack: AsyncExitStack) -> ThreadedBlastWorker:
        worker = await start_blast_worker(
            self.settings,
            stack,
            url=self.url,
            secret=SECRET,
            repo=self.repo,
            queue=self.queue,
            registry=self.core.registry,
            clock=self.clock,
            tuning=self.tuning,
        )
        assert isinstance(worker, ThreadedBlastWorker)
        return worker

    async def campaign(self, supporters: int) -> Campaign:
        now = self.clock.now()
        campaign = await self.repo.add_campaign(
            Campaign(
                ref="BEES01",
                title="Save the bees",
                message=MESSAGE,
                goal=0,
                launch_at=now + timedelta(days=1),
                networks=(MASTODON,),
                organiser=ORGANISER,
                created_at=now,
                status=CampaignStatus.LIVE,
            )
        )
        for n, remote in enumerate(self.fake.create_accounts(supporters)):
            account = await self.repo.save_account(
                SocialAccount(
                    owner=ORGANISER.__class__("test", str(1000 + n), f"S{n}", "en"),
                    network=MASTODON,
                    instance=self.fake.host,
                    remote_id=remote["id"],
                    handle=remote["username"],
                    followers=10,
                    tokens=TokenSet(access_token=remote["access_token"]),
                    linked_at=now,
                )
            )
            assert account.id is not None and campaign.id is not None
            await self.repo.add_pledge(
                Pledge(
                    campaign_id=campaign.id,
                    supporter=account.owner,
                    account_id=account.id,
                    network=MASTODON,
                    created_at=now,
                    delivery_mode=DeliveryMode.AUTO,
                )
            )
        await self.core.scheduler.campaign_changed(campaign)
        return campaign

    async def go(self, campaign: Campaign, moment: timedelta) -> None:
        self.clock.set(campaign.launch_at + moment)
        await self.core.scheduler.sync()
        await self.core.scheduler.wait_idle()


@pytest.fixture
async def sqlite_file(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Setup]:
    url = f"sqlite:///{tmp_path}/chorus.db"
    async with FakeMastodon(latency_ms=5, now=clock.now) as fake:
        repo = await open_repository(url, TokenCipher(SECRET))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            min_lead_minutes=0,
            blast_concurrency=4,
            blast_retry_window_seconds=5,
            mastodon_allow_private_hosts=True,
            mastodon_delivery=DeliveryMode.AUTO,
        )
        registry = build_networks(settings, repo)
        queue = open_process_blast_queue(settings, repo, url)
        chat = RecordingFrontEnd()
        core = build_world_core(settings, repo, clock, registry, chat, TUNING, (), queue)
        await core.scheduler.start()
        try:
            yield Setup(url, settings, repo, queue, core, chat, fake, clock, TUNING)  # type: ignore[misc]
        finally:
            await core.scheduler.stop()
            await queue.close()
            for adapter in registry.revokers().values():
                close = getattr(adapter, "aclose", None)
                if close is not None:
                    await close()
            await repo.close()


async def each_posted_once(setup: Setup, campaign: Campaign, supporters: int) -> None:
    assert campaign.id is not None
    assert (await setup.repo.get_campaign(campaign.id)).status is CampaignStatus.LAUNCHED  # type: ignore[union-attr]
    pledges = await setup.repo.pledges_of_campaign(campaign.id)
    assert len(pledges) == supporters
    assert {p.status for p in pledges} == {PledgeStatus.POSTED}
    assert len(setup.fake.posts) == supporters  # one status per account at the network...
    assert set(setup.fake.posts.values()) == {1}  # ...and only one
    assert await setup.repo.event_claimed(campaign.id, EventKind.REPORT_DONE)
    report = "\n\n".join(s.text for s in setup.chat.to(f"user:{ORGANISER.id}"))
    assert report.count(f"Posted by Chorus: {supporters}") == 1


async def test_the_blast_thread_posts_a_launch_on_an_sqlite_file(sqlite_file: Setup) -> None:
    setup = sqlite_file
    assert setup.queue.shared  # an SQLite file with the thread: the launch splits
    campaign = await setup.campaign(30)
    async with AsyncExitStack() as stack:
        worker = await setup.worker(stack)
        await setup.go(campaign, -timedelta(minutes=5))  # prepared
        async with asyncio.timeout(GUARD):
            await setup.go(campaign, timedelta(0))
        assert worker.host.alive and worker.fallback is None
    assert not worker.host.alive
    await each_posted_once(setup, campaign, 30)
    statuses = setup.fake.seen("POST", "/api/v1/statuses")
    assert len({call.peer for call in statuses}) <= setup.settings.blast_concurrency * 2


async def test_a_stopped_blast_thread_gives_its_batch_back_and_a_restart_finishes_it(
    sqlite_file: Setup,
) -> None:
    setup = sqlite_file
    setup.tuning = replace(TUNING, mark_batch=50, lease_seconds=3600)  # only a release frees it
    setup.fake.latency_ms = 20
    campaign = await setup.campaign(40)
    await setup.go(campaign, -timedelta(minutes=5))
    launch = asyncio.create_task(setup.go(campaign, timedelta(0)))
    async with AsyncExitStack() as stack:
        await setup.worker(stack)
        async with asyncio.timeout(GUARD):
            while not setup.fake.posts:  # noqa: ASYNC110 - its one batch is under way
                await asyncio.sleep(0.01)
    # stopped (as at SIGTERM): the batch is given back, not left to its lease
    assert not launch.done()
    assert len(setup.fake.posts) < 40
    async with AsyncExitStack() as stack:
        await setup.worker(stack)
        async with asyncio.timeout(GUARD):
            await launch
    await each_posted_once(setup, campaign, 40)


class LoopKiller(BaseException):
    """Out of the thread's job: nothing there catches it, so its loop dies."""


async def test_a_dead_blast_thread_is_said_and_the_main_loop_posts_instead(
    sqlite_file: Setup, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    setup = sqlite_file

    class Dying:
        async def run(self) -> None:
            raise LoopKiller("the blast thread's loop dies")

    async def dying_job(*_args: object) -> Dying:
        return Dying()

    monkeypatch.setattr("bot.runtime._open_blast_job", dying_job)
    campaign = await setup.campaign(20)
    await setup.go(campaign, -timedelta(minutes=5))
    async with AsyncExitStack() as stack:
        worker = await setup.worker(stack)
        async with asyncio.timeout(GUARD):
            await setup.go(campaign, timedelta(0))  # not left waiting for its batches
        assert worker.fallback is not None and worker.fallback.batches_done == 3
    assert isinstance(worker.host.crashed, LoopKiller)
    assert "the blast thread died" in caplog.text
    await each_posted_once(setup, campaign, 20)


async def test_a_split_wakes_a_queue_waiting_in_another_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "chorus.db")
    url = f"sqlite:///{path}"
    repo = await open_repository(url, TokenCipher(SECRET))
    stored = await repo.add_campaign(a_campaign())
    assert stored.id is not None
    launch_queue = open_blast_queue(repo, channel=path)
    waiting, woken = threading.Event(), threading.Event()

    async def worker_side() -> None:
        other = await open_repository(url, TokenCipher(SECRET), migrate=False)
        queue = open_blast_queue(other, channel=path)
        try:
            wait = asyncio.ensure_future(queue.wait(3600))  # it would poll in an hour
            await asyncio.sleep(0)
            waiting.set()
            await asyncio.wait_for(wait, 30)  # a guard: the wake comes at once
            woken.set()
        finally:
            await queue.close()
            await other.close()

    thread = threading.Thread(target=asyncio.run, args=(worker_side(),))
    thread.start()
    try:
        assert await asyncio.to_thread(waiting.wait, GUARD)
        assert await launch_queue.split(stored.id, [1, 2, 3], 2) == 2
    finally:
        await asyncio.to_thread(thread.join)
        await launch_queue.close()
        await repo.close()
    assert woken.is_set()  # the split woke it, from this thread to its loop


async def test_a_batch_claimed_by_a_process_that_died_is_posted_at_the_restart(
    sqlite_file: Setup,
) -> None:
    """kill -9 mid-blast: its batch stays claimed; on SQLite no other process can hold
    it, so the next start gives it back rather than wait for the lease."""
    setup = sqlite_file
    campaign = await setup.campaign(10)
    await setup.go(campaign, -timedelta(minutes=5))
    launch = asyncio.create_task(setup.go(campaign, timedelta(0)))
    async with asyncio.timeout(GUARD):
        while not await setup.queue.unfinished(campaign.id or 0):  # noqa: ASYNC110 - split
            await asyncio.sleep(0.01)
    dead = await setup.queue.claim("killed", 3600)  # its lease would outlive the test
    assert dead is not None
    async with AsyncExitStack() as stack:
        await setup.worker(stack)
        async with asyncio.timeout(GUARD):
            await launch
    await each_posted_once(setup, campaign, 10)
