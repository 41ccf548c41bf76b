"""Automatic delivery: post every queued pledge of one network with its supporter's token.

A fixed pool of workers (BLAST_CONCURRENCY per network) takes pledges from a queue. The
queue is fed in batches whose accounts are fetched (``AccountSource``) and which are then
recorded as SENDING in the database, so a request never leaves before the database knows
it might have. Rate limits are honoured until their reset, a network that is down is
retried with exponential backoff and jitter, both only within the retry window; revoked
and rejected posts are never retried.

This is the hot loop of a launch (a 100,000-pledge blast runs it 100,000 times on one
core shared with the HTTP client): per post it does one copy of the pledge, no logging
unless something fails, and no database call (results go to the batching writer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from bot.blast.accounts import AccountSource
from bot.blast.matching import find_campaign_post
from bot.blast.policy import BlastTuning
from bot.blast.writer import DeliveryWriter
from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign
from bot.domain.networks import Network, Recovery
from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus, change_status
from bot.ports import Clock, NetworkFailure, Repository, SocialNetwork

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    pledge: Pledge
    account: SocialAccount
    attempt: int = 0
    check_first: bool = False


@dataclass
class SendStats:
    """What one network's sender did (monotonic timestamps, for the benchmark)."""

    sent: int = 0
    retried: int = 0
    posted: int = 0
    failed: int = 0
    first_post: float | None = None
    last_post: float | None = None


class AutoSender:
    """Delivers one campaign's auto pledges on one network."""

    def __init__(
        self,
        *,
        repo: Repository,
        network: SocialNetwork,
        recovery: Recovery,
        clock: Clock,
        writer: DeliveryWriter,
        campaign: Campaign,
        since: datetime,
        concurrency: int,
        deadline: float,
        tuning: BlastTuning,
    ) -> None:
        self._repo = repo
        self._network = network
        self._clock = clock
        self._writer = writer
        self._campaign = campaign  # its wordings: each pledge posts its own
        self._since = since
        self._concurrency = concurrency
        self._deadline = deadline
        self._tuning = tuning
        self._recovery = recovery
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._room = asyncio.Event()
        self._remaining = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self.stats = SendStats()
        self.refusals: dict[int, str] = {}  # pledge id → the network's words, failed for good
        self._failures: Counter[OutcomeKind] = Counter()  # logged once, at the end

    @property
    def network_id(self) -> Network:
        return self._network.network

    @property
    def failures(self) -> dict[str, int]:
        """Failed pledges by outcome kind (for the metrics)."""
        return {kind.value: count for kind, count in self._failures.items()}

    async def run(
        self, queued: list[Pledge], sending: list[Pledge], accounts: AccountSource
    ) -> SendStats:
        """Deliver ``queued`` pledges, and ``sending`` ones left by an interrupted blast.

        Both lists are consumed (emptied batch by batch), so what was delivered is freed.
        """
        self._remaining = len(queued) + len(sending)
        if not self._remaining:
            return self.stats
        workers = [asyncio.create_task(self._work()) for _ in range(max(1, self._concurrency))]
        try:
            await self._feed(sending, accounts, mark=False)
            await self._feed(queued, accounts, mark=True)
            await asyncio.gather(*workers)
        finally:  # on error or cancellation no request of this run may still be in flight
            for timer in self._timers:
                timer.cancel()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if self._failures:
                log.info(
                    "%s: %s pledges failed %s",
                    self._network.network,
                    self.stats.failed,
                    {kind.value: count for kind, count in self._failures.items()},
                )
        return self.stats

    async def _feed(self, pledges: list[Pledge], source: AccountSource, *, mark: bool) -> None:
        """Wait for room, fetch a batch's accounts, mark it SENDING (``mark``: fresh
        pledges; the others are SENDING already), hand it to the workers, repeat."""
        size = self._tuning.mark_batch
        check_first = not mark and self._recovery is Recovery.CHECK_FIRST
        while pledges:
            while self._queue.qsize() > size:
                self._room.clear()
                await self._room.wait()
            part = pledges[:size]
            del pledges[:size]
            accounts = await source.get([p.account_id for p in part])
            moved: set[int] = set()
            if mark:
                ids = [p.id for p in part if p.id is not None and p.account_id in accounts]
                moved = set(
                    await self._repo.set_delivery(
                        ids, DeliveryState.SENDING, expected=DeliveryState.QUEUED
                    )
                )
            for pledge in part:
                account = accounts.get(pledge.account_id)
                if account is None or (mark and pledge.id not in moved):
                    # erased since, or already taken by another run: not ours to send
                    self._settle()
                else:
                    self._queue.put_nowait(_Job(pledge, account, check_first=check_first))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if job is None:
                return
            if self._queue.qsize() <= self._tuning.mark_batch:
                self._room.set()
            try:
                await self._attempt(job)
            except Exception:  # never lose a pledge to a bug in one attempt
                log.exception("delivering pledge %s failed unexpectedly", job.pledge.id)
                self._finish(job, PostOutcome(OutcomeKind.NETWORK_DOWN, reason="error"))

    async def _attempt(self, job: _Job) -> None:
        if job.check_first:
            found = await self._already_posted(job)
            if found is not None:
                self._finish(job, found)
                return
        text = job.pledge.text(self._campaign)
        try:
            outcome = await self._network.post(
                job.account, text, idempotency_key=f"chorus-{job.pledge.id}"
            )
        except Exception as exc:  # an adapter bug or a broken connection: transient
            log.warning("posting pledge %s raised %s", job.pledge.id, type(exc).__name__)
            outcome = PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        self.stats.sent += 1
        if outcome.kind is OutcomeKind.RATE_LIMITED:
            delay = self._rate_limit_delay(job, outcome)
            self._retry_or_fail(job, outcome, delay, check_first=False)
        elif outcome.kind is OutcomeKind.NETWORK_DOWN:
            job.attempt += 1
            delay = self._tuning.retry.backoff(job.attempt)
            # the request may have landed before the failure: look before re-sending
            self._retry_or_fail(
                job, outcome, delay, check_first=self._recovery is Recovery.CHECK_FIRST
            )
        else:
            self._finish(job, outcome)

    def _rate_limit_delay(self, job: _Job, outcome: PostOutcome) -> float:
        job.attempt += 1
        if outcome.retry_at is None:
            return self._tuning.retry.backoff(job.attempt)
        return max(0.0, (outcome.retry_at - self._clock.now()).total_seconds())

    def _retry_or_fail(
        self, job: _Job, outcome: PostOutcome, delay: float, *, check_first: bool
    ) -> None:
        if time.monotonic() + delay > self._deadline:
            self._finish(job, outcome)
            return
        self.stats.retried += 1
        log.debug("pledge %s: %s, retry in %.2f s", job.pledge.id, outcome.kind, delay)
        job.check_first = check_first
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def requeue() -> None:
            self._timers.discard(handle)
            self._queue.put_nowait(job)

        handle = loop.call_later(delay, requeue)
        self._timers.add(handle)

    async def _already_posted(self, job: _Job) -> PostOutcome | None:
        try:
            posts = await self._network.recent_posts(job.account, since=self._since)
        except NetworkFailure as failure:
            if failure.outcome.kind is OutcomeKind.REVOKED:
                return failure.outcome
            return None  # cannot tell: sending is the lesser evil than never posting
        found = find_campaign_post(posts, job.pledge.text(self._campaign))
        if found is None:
            return None
        return PostOutcome(OutcomeKind.POSTED, remote_id=found.remote_id, url=found.url)

    def _finish(self, job: _Job, outcome: PostOutcome) -> None:
        now = self._clock.now()
        pledge = job.pledge
        if outcome.ok:
            self._writer.add(_posted(pledge, now, outcome))
            self.stats.posted += 1
            stamp = time.monotonic()
            if self.stats.first_post is None:
                self.stats.first_post = stamp
            self.stats.last_post = stamp
        else:
            self._writer.add(
                change_status(pledge, PledgeStatus.FAILED, at=now, reason=outcome.kind.value)
            )
            self.stats.failed += 1
            if outcome.kind is OutcomeKind.REVOKED:
                self._writer.account_revoked(job.account.id or 0)
            if outcome.permanent and pledge.id is not None:
                self.refusals[pledge.id] = outcome.reason
            self._failures[outcome.kind] += 1
            # one line per pledge only when asked: a mass failure must not flood the log
            log.debug("pledge %s failed: %s %s", pledge.id, outcome.kind, outcome.reason)
        self._settle()

    def _settle(self) -> None:
        self._remaining -= 1
        if self._remaining == 0:
            for _ in range(max(1, self._concurrency)):
                self._queue.put_nowait(None)


def _posted(pledge: Pledge, at: datetime, outcome: PostOutcome) -> Pledge:
    """``change_status(pledge, POSTED)`` with the remote post filled in, in one copy
    instead of two (this runs once per post)."""
    if pledge.status is not PledgeStatus.PLEDGED:  # not a pledge a sender gets: the rule says
        pledge = change_status(pledge, PledgeStatus.POSTED, at=at)
    return replace(
        pledge,
        status=PledgeStatus.POSTED,
        delivery=DeliveryState.DONE,
        posted_at=at,
        failure_reason=None,
        remote_post_id=outcome.remote_id,
        remote_post_url=outcome.url,
    )
