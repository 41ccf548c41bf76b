"""The maintenance loop: runs its jobs at start and once per interval, survives a failing job,
stops cleanly; and its purge job clears expired rows from a real repository."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.app import build_chorus
from bot.maintenance import Maintenance, PeriodicJob
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET

GUARD = 10.0  # seconds before a stuck wait fails the test (a guard, not a speed check)


class ManualSleep:
    """A ``sleep`` the test releases by hand: each interval ends when the test says so."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._sleepers: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._sleepers.put(wake)
        await wake

    async def next_sleeper(self) -> asyncio.Future[None]:
        """Wait until a job has finished its run and gone to sleep; its wake-up call."""
        async with asyncio.timeout(GUARD):
            return await self._sleepers.get()


def counting_job(name: str, runs: list[str], every: timedelta) -> PeriodicJob:
    async def run() -> None:
        runs.append(name)

    return PeriodicJob(name, every, run)


async def test_each_job_runs_at_start_then_once_per_interval_until_stopped() -> None:
    runs: list[str] = []
    sleep = ManualSleep()
    maintenance = Maintenance([counting_job("purge", runs, timedelta(minutes=5))], sleep=sleep)

    await maintenance.start()
    wake = await sleep.next_sleeper()
    assert runs == ["purge"] and sleep.asked == [300.0]
    wake.set_result(None)  # five minutes later
    await sleep.next_sleeper()
    assert runs == ["purge", "purge"]

    await maintenance.stop()
    assert not maintenance.running
    assert runs == ["purge", "purge"]
    await maintenance.stop()  # stopping twice is harmless


async def test_a_failing_job_is_logged_tried_again_and_stops_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[str] = []
    attempts: list[int] = []

    async def broken() -> None:
        attempts.append(1)
        raise ConnectionError("database went away")

    sleep = ManualSleep()
    maintenance = Maintenance(
        [
            PeriodicJob("broken", timedelta(minutes=1), broken),
            counting_job("other", runs, timedelta(minutes=1)),
        ],
        sleep=sleep,
    )
    with caplog.at_level(logging.ERROR, logger="bot.maintenance"):
        await maintenance.start()
        first, second = await sleep.next_sleeper(), await sleep.next_sleeper()
        first.set_result(None)
        second.set_result(None)
        await sleep.next_sleeper()
        await sleep.next_sleeper()
        assert maintenance.running
        await maintenance.stop()
    assert len(attempts) == 2 and runs == ["other", "other"]
    assert [r.getMessage() for r in caplog.records] == ["maintenance job 'broken' failed"] * 2


async def test_starting_twice_is_refused() -> None:
    maintenance = Maintenance(
        [counting_job("purge", [], timedelta(minutes=5))], sleep=ManualSleep()
    )
    await maintenance.start()
    try:
        with pytest.raises(RuntimeError):
            await maintenance.start()
    finally:
        await maintenance.stop()


async def test_the_purge_job_clears_expired_oauth_states_and_nonces(repo: Repository) -> None:
    clock = FakeClock()
    settings = Settings(_env_file=None, maintenance_interval_minutes=7)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, clock, secret=TEST_SECRET)
    now = clock.now()
    await repo.save_oauth_state("abandoned", {"v": 1}, now + timedelta(minutes=15))
    await repo.save_oauth_state("in-flight", {"v": 2}, now + timedelta(minutes=45))
    assert await repo.consume_nonce("used-link", now + timedelta(minutes=15))
    [job] = [j for j in core.maintenance.jobs if j.name == "purge expired rows"]
    assert job.every == timedelta(minutes=7)

    clock.advance(timedelta(minutes=30))
    assert await job.run() == 2

    assert not await repo.nonce_used("used-link")
    assert await repo.take_oauth_state("in-flight", clock.now()) == {"v": 2}
