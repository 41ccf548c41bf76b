"""Housekeeping that runs every few minutes while ``chorus run`` is up.

A job is a name, an interval and a coroutine function without arguments; the list of
them is ``maintenance_jobs`` (adding a periodic job is one line there). Each job runs
once at start, then once per interval, in its own task: a slow job delays no other, and
a failing one is logged and tried again at its next turn. ``serve`` starts and stops
``Maintenance`` with the other components.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.ports import Clock, Repository
from bot.services.revocations import Revocations
from bot.settings import Settings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], Awaitable[object]]


def purge_expired_job(repo: Repository, clock: Clock, every: timedelta) -> PeriodicJob:
    """Delete expired OAuth states and used-nonce rows, so neither table only grows."""

    async def purge() -> int:
        removed = await repo.purge_expired(clock.now())
        if removed:
            log.info("purged %s expired OAuth states and used link nonces", removed)
        return removed

    return PeriodicJob("purge expired rows", every, purge)


def maintenance_jobs(
    settings: Settings, repo: Repository, clock: Clock, revocations: Revocations
) -> list[PeriodicJob]:
    """Every periodic job of ``chorus run``, one line each."""
    every = timedelta(minutes=settings.maintenance_interval_minutes)
    return [
        purge_expired_job(repo, clock, every),
        PeriodicJob("revoke released tokens", every, revocations.retry_pending),
    ]


class Maintenance:
    """Runs ``jobs`` periodically between ``start()`` and ``stop()``.

    ``sleep`` waits out an interval; tests pass one they release by hand.
    """

    def __init__(self, jobs: Sequence[PeriodicJob], *, sleep: Sleep = asyncio.sleep) -> None:
        self.jobs = tuple(jobs)
        self._sleep = sleep
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        if self._tasks:
            raise RuntimeError("maintenance is already started")
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"maintenance: {job.name}")
            for job in self.jobs
        ]

    async def stop(self) -> None:
        """Cancel every job (mid-run ones too: each job is safe to cut and run again)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, job: PeriodicJob) -> None:
        while True:
            try:
                await job.run()
            except Exception:  # logged, tried again next turn; the others go on
                log.exception("maintenance job %r failed", job.name)
            await self._sleep(job.every.total_seconds())
