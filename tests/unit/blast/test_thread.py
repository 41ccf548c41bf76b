"""The blast thread host: the job opens and runs in the thread's own loop, stops cleanly
from the main loop, and a failure is said (a job that fails is started again; a loop that
dies is reported) rather than leaving a launch waiting in silence."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from contextlib import AsyncExitStack

import pytest

from bot.blast.thread import BlastThread, ThreadStartError, lower_priority

GUARD = 30.0  # seconds: against hanging, not a measure of speed


class Recorder:
    """A job factory that records where and how often things happen."""

    def __init__(self, *, fail_runs: int = 0, fail_open: BaseException | None = None) -> None:
        self.fail_runs = fail_runs
        self.fail_open = fail_open
        self.opened = 0
        self.closed = 0
        self.cancelled = 0
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads: list[int] = []
        self.close_threads: list[int] = []
        self.running = threading.Event()

    async def __call__(self, stack: AsyncExitStack) -> Recorder.Job:
        if self.fail_open is not None:
            raise self.fail_open
        self.opened += 1
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.get_ident())
        stack.push_async_callback(self._close)
        return Recorder.Job(self)

    async def _close(self) -> None:
        self.closed += 1
        self.close_threads.append(threading.get_ident())

    class Job:
        def __init__(self, recorder: Recorder) -> None:
            self.recorder = recorder

        async def run(self) -> None:
            recorder = self.recorder
            if recorder.fail_runs:
                recorder.fail_runs -= 1
                raise RuntimeError("the database went away")
            recorder.running.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                recorder.cancelled += 1
                raise


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, GUARD), "never happened"


async def test_the_job_runs_in_its_own_thread_and_loop_and_stops_cleanly() -> None:
    recorder = Recorder()
    host = BlastThread(recorder)
    await host.start()
    await wait_for(recorder.running)
    assert host.alive
    assert recorder.threads != [threading.get_ident()]
    assert recorder.loops[0] is not asyncio.get_running_loop()
    assert recorder.loops[0] is host.loop

    await host.stop()

    assert not host.alive
    assert recorder.cancelled == 1  # the job was cancelled in its loop...
    assert recorder.closed == 1 and recorder.close_threads == recorder.threads  # ...closed there
    assert host.crashed is None and host.restarts == 0
    await host.stop()  # twice is harmless


async def test_a_factory_that_fails_fails_the_start() -> None:
    host = BlastThread(Recorder(fail_open=OSError("database is locked")))
    with pytest.raises(ThreadStartError, match="database is locked"):
        await host.start()
    assert not host.alive
    assert host.crashed is None


async def test_a_failed_job_is_logged_and_started_again(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(fail_runs=2)
    host = BlastThread(recorder, restart_seconds=0.001)
    with caplog.at_level(logging.ERROR, logger="bot.blast.thread"):
        await host.start()
        await wait_for(recorder.running)
        await host.stop()
    assert recorder.opened == 3 and recorder.closed == 3  # each attempt closed what it opened
    assert host.restarts == 2
    failures = [r for r in caplog.records if "job failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
    assert host.crashed is None  # started again: not a crash of the thread


class LoopKiller(BaseException):
    """Something no ``except Exception`` catches, out of the job."""


async def test_a_dead_loop_is_logged_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    reported: list[BaseException | None] = []
    told = asyncio.Event()

    class Dying(Recorder.Job):
        async def run(self) -> None:
            raise LoopKiller("boom")

    class Factory(Recorder):
        async def __call__(self, stack: AsyncExitStack) -> Recorder.Job:
            await super().__call__(stack)
            return Dying(self)

    def on_crash(error: BaseException | None) -> None:
        reported.append(error)
        told.set()

    recorder = Factory()
    host = BlastThread(recorder, on_crash=on_crash)
    with caplog.at_level(logging.ERROR, logger="bot.blast.thread"):
        await host.start()
        async with asyncio.timeout(GUARD):
            await told.wait()
    assert isinstance(reported[0], LoopKiller)
    assert isinstance(host.crashed, LoopKiller)
    assert recorder.closed == 1  # what it opened was still closed
    assert any("event loop crashed" in r.getMessage() for r in caplog.records)
    await host.stop()
    assert not host.alive


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority")
async def test_the_thread_runs_nicer_than_the_main_loop_and_so_do_its_threads() -> None:
    before = niceness()
    seen: list[int] = []

    class Nice(Recorder):
        async def __call__(self, stack: AsyncExitStack) -> Recorder.Job:
            seen.append(niceness())
            seen.append(await asyncio.to_thread(niceness))  # a thread it starts
            return await super().__call__(stack)

    recorder = Nice()
    host = BlastThread(recorder, nice=3)
    await host.start()
    await wait_for(recorder.running)
    await host.stop()
    assert seen == [min(before + 3, 19)] * 2
    assert niceness() == before  # the main loop's thread is left as it was
    assert not lower_priority(0)
