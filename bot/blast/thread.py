"""The blast on a thread of its own, with its own event loop.

Posting a blast is CPU work at the speed of the networks (hundreds of requests in flight,
results written in batches). In the event loop that also answers people, every reply
waits a whole loop turn of that work. On a thread with its own loop, the interpreter's
lock hands the CPU back to the main loop within its switch interval whenever the main
loop has something to do, so replies wait milliseconds rather than a turn of the blast.

Asyncio objects (database connections and pools, HTTP sessions, events) belong to the
loop that made them, so nothing loop-bound crosses over: the host is given a factory
that opens everything the job needs inside the thread's loop (its repository, queue and
network adapters), registering how to close each on an exit stack, and returns the job.
The host starts and stops from the main loop without blocking it; a job that fails is
logged and started again (a launch waiting for its batches is not left waiting), and a
thread whose loop dies anyway is logged and reported through ``on_crash``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Protocol

log = logging.getLogger(__name__)

RESTART_SECONDS = 1.0  # after a failed job, the first wait before the next (doubling)
MAX_RESTART_SECONDS = 30.0


class Job(Protocol):
    """What runs on the thread until cancelled (a ``BlastWorker``)."""

    async def run(self) -> None: ...


JobFactory = Callable[[AsyncExitStack], Awaitable[Job]]


class ThreadStartError(Exception):
    """The job could not be opened on its thread (the factory's error is the cause)."""


class BlastThread:
    """Runs the job ``factory`` opens on a dedicated thread and event loop."""

    def __init__(
        self,
        factory: JobFactory,
        *,
        name: str = "chorus-blast",
        on_crash: Callable[[BaseException | None], None] | None = None,
        nice: int = 0,
        restart_seconds: float = RESTART_SECONDS,
    ) -> None:
        """``on_crash`` is called in the main loop if the thread's loop ends without
        being asked to; ``nice`` lowers the thread's OS
        priority (and that of the threads it starts, such as its database driver's) by
        that much, on Linux, where the priority is per thread."""
        self._factory = factory
        self._name = name
        self._on_crash = on_crash
        self._restart_seconds = restart_seconds
        self._nice = nice
        self._thread: threading.Thread | None = None
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the thread's
        self._ready: asyncio.Future[None] | None = None
        self._stop_requested = threading.Event()
        self._stopping: asyncio.Event | None = None  # in the thread's loop
        self._start_failed = False
        self.crashed: BaseException | None = None
        self.restarts = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The thread's event loop while it runs."""
        return self._loop

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def start(self) -> None:
        """Start the thread; return once the factory opened the job (its error raised)."""
        if self._thread is not None:
            return
        self._main = asyncio.get_running_loop()
        self._ready = self._main.create_future()
        self._stop_requested.clear()
        self._thread = threading.Thread(target=self._thread_main, name=self._name, daemon=True)
        self._thread.start()
        try:
            await asyncio.shield(self._ready)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Cancel the job in its loop, let it close what it opened, join the thread."""
        thread = self._thread
        if thread is None:
            return
        self._stop_requested.set()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed already
                loop.call_soon_threadsafe(self._request_stop)
        await asyncio.to_thread(thread.join)
        self._thread = None

    # --- on the thread -----------------------------------------------------------

    def _request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    def _thread_main(self) -> None:
        error: BaseException | None = None
        lower_priority(self._nice)
        try:
            asyncio.run(self._supervise())
        except BaseException as exc:  # the loop itself died: said, never silent
            error = exc
            log.critical("the blast thread's event loop crashed", exc_info=exc)
        finally:
            self._loop = None
            self._to_main(self._ended, error)

    async def _supervise(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if self._stop_requested.is_set():  # stopped before the loop existed
            self._stopping.set()
        stopping = self._stopping
        delay = self._restart_seconds
        first = True
        while not stopping.is_set():
            try:
                async with AsyncExitStack() as stack:
                    job = await self._factory(stack)
                    if first:
                        first = False
                        self._to_main(self._opened, None)
                    await self._run_until_stopped(job, stopping)
                    if stopping.is_set():
                        return
                log.error("the blast thread's job ended by itself; starting it again")
            except Exception as exc:
                if first:  # the job never opened: start() raises it
                    self._to_main(self._opened, exc)
                    return
                log.exception("the blast thread's job failed; starting it again in %s s", delay)
            self.restarts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, MAX_RESTART_SECONDS)

    @staticmethod
    async def _run_until_stopped(job: Job, stopping: asyncio.Event) -> None:
        running = asyncio.ensure_future(job.run())
        waiting = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            if not running.done():
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        if not running.cancelled():
            running.result()  # its error, if it failed

    def _to_main(self, callback: Callable[[BaseException | None], None], arg: object) -> None:
        main = self._main
        if main is None:
            return
        with contextlib.suppress(RuntimeError):  # the main loop is closed: nobody to tell
            main.call_soon_threadsafe(callback, arg)

    # --- back in the main loop ---------------------------------------------------

    def _opened(self, error: BaseException | None) -> None:
        ready = self._ready
        if ready is None or ready.done():
            return
        if error is None:
            ready.set_result(None)
        else:
            self._start_failed = True
            failure = ThreadStartError(f"{type(error).__name__}: {error}")
            failure.__cause__ = error
            ready.set_exception(failure)

    def _ended(self, error: BaseException | None) -> None:
        ready = self._ready
        if ready is not None and not ready.done():
            self._opened(error or RuntimeError("the blast thread ended before it started"))
            return
        if self._stop_requested.is_set() or self._start_failed:
            return
        self.crashed = error or RuntimeError("the blast thread ended by itself")
        log.error("the blast thread stopped: %s", self.crashed)
        if self._on_crash is not None:
            self._on_crash(error)


def lower_priority(nice: int) -> bool:
    """Add ``nice`` to the calling thread's niceness (Linux only: elsewhere the call
    would apply to the whole process); True if done. Threads it starts afterwards
    inherit it."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, current + nice)
    except OSError as exc:
        log.warning("cannot lower the blast thread's priority: %s", exc)
        return False
    return True
