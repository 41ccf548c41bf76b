"""The blast worker: every process posts batches of a launched blast, under a lease.

With several processes on one database (``BlastQueue.shared``) the launch splits its
auto pledges into batches; each process runs one ``BlastWorker`` that claims a batch,
posts its pledges through the same per-pledge path as a single-process launch
(``AutoSender``: QUEUED → SENDING in the database before any request, results through the
batching writer), renews its lease meanwhile and marks the batch done once the results
are stored. It posts two batches at a time, sharing its concurrency between them, so
the tail of one (its last requests, its results being stored) overlaps the next one's
start rather than leaving the process idle. A batch whose process died is claimed again
when its lease runs out; its pledges still SENDING go through the networks' crash
recovery (RESEND with the same idempotency key, or CHECK_FIRST) like a resumed launch,
and those already stored as posted are skipped, so each pledge is still posted at most
once. A worker whose lease was taken over stops posting that batch at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict

from bot.blast.accounts import AccountSource, borrow
from bot.blast.auto import AutoSender
from bot.blast.policy import BlastTuning
from bot.blast.prepare import mode_of
from bot.blast.writer import DeliveryWriter
from bot.domain.batches import BlastBatch
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus
from bot.ports import BlastQueue, Clock, Repository
from bot.registry import NetworkRegistry

log = logging.getLogger(__name__)

LANES = 2  # batches a worker posts at once, sharing its concurrency


class BlastWorker:
    """Claims and posts batches until stopped; one per process."""

    def __init__(
        self,
        *,
        repo: Repository,
        queue: BlastQueue,
        registry: NetworkRegistry,
        clock: Clock,
        concurrency: int,
        retry_window_seconds: float,
        tuning: BlastTuning | None = None,
        owner: str | None = None,
        lanes: int = LANES,
    ) -> None:
        self._repo = repo
        self._queue = queue
        self._registry = registry
        self._clock = clock
        self._concurrency = concurrency
        self._retry_window = retry_window_seconds
        self._tuning = tuning or BlastTuning()
        self.owner = owner or uuid.uuid4().hex
        self._lanes = lanes
        self.batches_done = 0
        self._task: asyncio.Task[None] | None = None

    # --- the loop ------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop at once: a batch being posted is given back (its results so far stored),
        and another process reconciles and finishes it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Post batches in ``lanes`` loops, each with its share of the concurrency: while
        one batch's last requests drain and its results are stored, another lane posts,
        so the process does not idle between batches."""
        async with asyncio.TaskGroup() as lanes:
            for share in self._shares():
                lanes.create_task(self._lane(share))

    def _shares(self) -> list[int]:
        lanes = max(1, min(self._lanes, self._concurrency))
        base, extra = divmod(self._concurrency, lanes)
        return [base + (1 if lane < extra else 0) for lane in range(lanes)]

    async def _lane(self, concurrency: int) -> None:
        while True:
            try:
                worked = await self.run_once(concurrency)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: try again on the next beat
                log.exception("blast worker %s: a batch failed; retrying", self.owner[:8])
                worked = False
            if not worked:
                await self._queue.wait(self._tuning.poll_seconds)

    async def run_once(self, concurrency: int | None = None) -> bool:
        """Claim and post one batch; False if there was none to claim."""
        batch = await self._queue.claim(self.owner, self._tuning.lease_seconds)
        if batch is None:
            return False
        await self.post(batch, concurrency)
        return True

    # --- one batch -----------------------------------------------------------------

    async def post(self, batch: BlastBatch, concurrency: int | None = None) -> None:
        """Post ``batch`` (``concurrency`` requests at a time, else the worker's) while
        renewing its lease, then mark it done."""
        lost = False
        posting = asyncio.ensure_future(self._post(batch, concurrency or self._concurrency))

        async def renew() -> None:
            nonlocal lost
            every = self._tuning.lease_seconds / 3
            while True:
                await asyncio.sleep(every)
                try:
                    kept = await self._queue.renew(
                        batch.id, self.owner, self._tuning.lease_seconds
                    )
                except Exception as exc:  # the database hiccupped: try on the next beat
                    log.warning("renewing blast batch %s: %s", batch.id, type(exc).__name__)
                    continue
                if not kept:
                    lost = True
                    posting.cancel()
                    return

        renewing = asyncio.ensure_future(renew())
        try:
            await posting
        except asyncio.CancelledError:
            if not lost:  # stopping: give the batch back rather than wait for the lease
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release(batch))
                raise
            log.warning("blast batch %s was taken over: stopped posting it", batch.id)
            return
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            if not posting.done():
                posting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await posting
        if await self._queue.finish(batch.id, self.owner):
            self.batches_done += 1
        else:
            log.warning("blast batch %s was taken over before it was done", batch.id)

    async def _release(self, batch: BlastBatch) -> None:
        if await self._queue.release(batch.id, self.owner):
            log.info("blast batch %s given back unfinished", batch.id)

    async def _post(self, batch: BlastBatch, concurrency: int) -> None:
        campaign = await self._repo.get_campaign(batch.campaign_id)
        if campaign is None or campaign.status is not CampaignStatus.LAUNCHING:
            return  # cancelled or erased meanwhile: nothing of it is posted
        networks = self._registry.networks()
        modes = self._registry.delivery_modes()
        queued: dict[Network, list[Pledge]] = defaultdict(list)
        sending: dict[Network, list[Pledge]] = defaultdict(list)
        for pledge in await self._repo.get_pledges(batch.pledge_ids):
            if pledge.status is not PledgeStatus.PLEDGED or pledge.network not in networks:
                continue  # done, failed, or its network went away (the launch fails those)
            if mode_of(pledge, modes) is not DeliveryMode.AUTO:
                continue
            if pledge.delivery is DeliveryState.QUEUED:
                queued[pledge.network].append(pledge)
            elif pledge.delivery is DeliveryState.SENDING:
                sending[pledge.network].append(pledge)  # a crashed run's: recovered
        if batch.reclaimed and sending:
            log.info(
                "blast batch %s reclaimed: %s pledges to reconcile",
                batch.id,
                sum(map(len, sending.values())),
            )
        # the launch's accounts when it runs in this process, else loaded batch by batch
        source = borrow(self._queue, batch.campaign_id) or AccountSource(self._repo)
        deadline = time.monotonic() + self._retry_window
        async with (
            DeliveryWriter(
                self._repo,
                flush_every=self._tuning.flush_every,
                flush_seconds=self._tuning.flush_seconds,
            ) as writer,
            asyncio.TaskGroup() as senders,
        ):
            for network in queued.keys() | sending.keys():
                sender = AutoSender(
                    repo=self._repo,
                    network=networks[network],
                    recovery=self._registry.recovery(network),
                    clock=self._clock,
                    writer=writer,
                    campaign=campaign,
                    since=campaign.launch_at,
                    concurrency=concurrency,
                    deadline=deadline,
                    tuning=self._tuning,
                )
                senders.create_task(
                    sender.run(queued.get(network, []), sending.get(network, []), source)
                )
