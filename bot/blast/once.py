"""Once-only messages to people: claimed, then sent, and never cut off in between.

After the launch, the report and each supporter's result are told *at most once*: each
message is claimed in the database (``Repository.claim_event``) before it is sent. The
other order, send then mark, would be at least once: a run stopped between the send and
the mark sends it again, and chat platforms have no idempotency key to catch that. A
report posted twice in a group, or a result told twice, is worse than one that may be
missing, and a missing one is logged where it happens.

What makes the at-most-once rarely lose anything is that a claim and its send run as one
unit that a cancellation does not cut: SIGTERM, or the leadership lost, cancels the
scheduler's runs, but a unit already started goes on in a task of its own (shielded)
until its message is sent, and ``InFlight.settle`` (the scheduler's stop) waits for it,
for ``SETTLE_SECONDS`` at most. A cancellation lands between units, where the next run
takes over. Only a crash (the process killed, the machine gone) between a claim and its
send loses that one message; a send that fails (the platform down, the chat gone) is
logged and not retried, since it may have arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# how long a stop waits for the messages on their way (a chat API answers in seconds)
SETTLE_SECONDS = 15.0


class InFlight:
    """Runs claim-then-send units to their end even when the caller is cancelled."""

    def __init__(self) -> None:
        self._units: set[asyncio.Future[object]] = set()
        self._orphans: set[asyncio.Future[object]] = set()  # their caller was cancelled

    async def run(self, unit: Awaitable[T]) -> T:
        """Run ``unit`` (a claim and its send); a cancellation of the caller leaves it
        running, and ``settle`` waits for it."""
        task: asyncio.Future[T] = asyncio.ensure_future(unit)
        self._units.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._finished)  # type: ignore[arg-type]
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            self._orphans.add(task)  # type: ignore[arg-type]
            raise

    def _finished(self, unit: asyncio.Future[object]) -> None:
        """Forget a finished unit; log its error if no caller is left to see it."""
        self._units.discard(unit)
        orphan = unit in self._orphans
        self._orphans.discard(unit)
        if unit.cancelled() or unit.exception() is None or not orphan:
            return
        log.warning("a message on its way when its run stopped failed", exc_info=unit.exception())

    @property
    def pending(self) -> int:
        return sum(1 for unit in self._units if not unit.done())

    async def settle(self, grace: float = SETTLE_SECONDS) -> None:
        """Wait for the units under way (a stop); those still running after ``grace``
        are cancelled, and their message may be lost (logged)."""
        units = [unit for unit in self._units if not unit.done()]
        if not units:
            return
        log.info("waiting for %s message(s) on their way", len(units))
        _, late = await asyncio.wait(units, timeout=grace)
        for unit in late:
            unit.cancel()
        if late:
            log.warning(
                "%s claimed message(s) still unsent after %.0f s were cut off: "
                "they are not sent again",
                len(late),
                grace,
            )
        await asyncio.gather(*units, return_exceptions=True)


async def claim_then_send(
    claim: Callable[[], Awaitable[bool]], send: Callable[[], Awaitable[object | None]], what: str
) -> bool:
    """Send once ``claim`` is won; whether it was sent. A send that did not arrive (None)
    is logged as ``what`` and not retried: it was claimed, and may have arrived."""
    if not await claim():
        return False
    if await send() is None:
        log.warning("%s was not delivered; not sent again", what)
        return False
    return True


async def count_sent(
    items: Iterable[T], tell: Callable[[T], Awaitable[bool]], concurrency: int
) -> int:
    """``tell`` each item, ``concurrency`` at a time; how many said they sent.

    A pool of workers taking the items in turn, not a task per item: 10,000 tasks started
    and 10,000 messages rendered at once held the event loop for a second or two (replies
    waited)."""
    sent = 0
    queue = iter(items)  # shared: each worker takes the next item

    async def worker() -> None:
        nonlocal sent
        for item in queue:
            told = await tell(item)  # then add: ``sent += await`` would read it first
            sent += told

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return sent
