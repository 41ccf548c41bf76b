"""Chorus's pacing of outgoing Telegram calls: replies first, bulk evenly at the limit.

Telegram lets a bot send about 30 messages a second overall (and about one a second in a
private chat, short bursts allowed, 20 a minute in a group), and answers ``429`` with
``retry_after`` beyond. Bulk keeps to the per-chat limits; replies keep to a group's.
PTB's ``AIORateLimiter`` sleeps after each send, so every late wake-up of a busy event
loop pushes all later messages back (a ``tap`` launch took 1.19x the ideal N/30), and it
serves calls first come, first served, so a person's reply waits behind up to a hundred
bulk messages (supporters being told their results). ``PacedRateLimiter`` instead:

- paces by an absolute schedule: slot k+1 = slot k + 1/rate (or now, when idle or more
  than ``lag`` behind), so a wake-up late by less than ``lag`` is caught up rather than
  carried forward to every later message; a guard on top keeps a send at least
  ``window`` (plus a small margin) after the one ``limit`` sends before it reached
  Telegram, as far as we can tell: its start, moved by how much longer than the quickest
  round trip lately its own took (up to ``held``, assumed while it is in flight). A
  call held up on its way (a busy machine, the network, Telegram) could have arrived
  that much late, but no later, so it and the one sent 30 after it never land in the
  same second: no 429, and no cost for calls that went at the usual speed;
- has two lanes: **interactive** (the first few messages a handler sends while answering
  an update: the reply to a command, the edit of the message a person pressed) goes as
  soon as the window has room, and while people are being answered bulk keeps a few of
  each window's sends free for them; **bulk** (everything else: tap offers, results,
  reminders, card updates to many chats) takes the slots left. Calls that send no
  message (``answerCallbackQuery``, ``answerInlineQuery``, ``getChatMember``...) are not
  paced at all;
- on a 429 pauses both lanes for ``retry_after`` and retries the message first in its
  lane; it is never dropped (up to ``max_retries`` refusals in a row, as PTB's own). The
  pace then slows a step (3%), and comes back a step every 20 s without a 429.

How a call is marked: ``answering()`` (installed by ``client.build_application`` as the
first handler of every update) marks the update's own task; a call made from that task,
within its budget, is interactive. Tasks the handler spawns (a fan-out with ``gather``, a
card refresh later) inherit the mark but are other tasks, hence bulk; so is anything past
the budget (a handler that writes to every supporter). ``rate_limit_args`` may name a
``Lane`` to override, or an ``int``: the most retries, as with PTB's limiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]

MESSAGES_PER_SECOND = 30  # Telegram's overall limit for a bot (without paid broadcasts)
PACE = 0.97  # of that limit: 29.1 a second, so 30 in a row span 1.031 s (jitter on the way)
SLOWER = 0.97  # after a 429, the pace times this (down to FLOOR of the limit)...
FLOOR = 0.85
CALM = 20.0  # ...and back up one step after this many seconds without one
INTERACTIVE_BUDGET = 3  # messages an update's handler sends at the head of the queue
RESERVED = 3  # of ``limit`` sends a window, kept free for replies while people talk...
TALKING = 30.0  # ...that is, for this many seconds after the last reply
PRIVATE_CHAT_RATE = (1.0, 3)  # a second apart on average, three in a burst
GROUP_CHAT_RATE = (3.0, 20)  # 20 a minute: three seconds apart, twenty in a burst


class Lane(StrEnum):
    INTERACTIVE = "interactive"
    BULK = "bulk"


@dataclass
class _Turn:
    """An update being answered: its task, and how many paced sends it may still jump."""

    task: asyncio.Task[Any] | None
    budget: int


_TURN: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("telegram_turn", default=None)


def answering(budget: int = INTERACTIVE_BUDGET) -> None:
    """Mark the running task as answering a person's update (its first ``budget`` paced
    sends are interactive). Meant for the task that handles the update."""
    _TURN.set(_Turn(asyncio.current_task(), budget))


def current_lane() -> Lane:
    """The lane of a paced call made now (and the call uses one of the turn's budget)."""
    turn = _TURN.get()
    if turn is None or turn.task is not asyncio.current_task() or turn.budget <= 0:
        return Lane.BULK
    turn.budget -= 1
    return Lane.INTERACTIVE


@dataclass
class Stamp:
    """When a slot was used: the grant, then moved to when the call actually started."""

    at: float


class Schedule:
    """The overall pace as pure arithmetic on a clock's readings (no sleeping here).

    ``next_slot(now)`` is the earliest instant the next message may go; ``grant(now)``
    records that it went. Slots follow each other ``1/rate`` apart on an absolute grid;
    a grant later than its slot (the event loop woke late) does not move the next slot,
    unless the grid fell more than ``lag`` behind (after idling, or a long stall): then
    the next slot is now, with no burst to catch up.
    ``limit`` sends in a row never span less than ``window + margin``; a pause (a 429)
    holds every slot until it ends. Replies (the interactive lane) are not on the grid:
    one goes as soon as the window has room. While people are being answered (a reply
    within ``TALKING`` seconds), bulk leaves ``reserved`` of each window's sends to them,
    so a reply does not wait for the next slot of a broadcast (a slot of 34 ms, then the
    window's turn: 20-170 ms seen while supporters were told their results); with no one
    talking, bulk has the whole pace. A 429 also means our sends reach Telegram less evenly
    than we send them (network, a busy machine): ``slow_down`` widens the slots a step,
    and every ``CALM`` seconds without another the pace comes back a step.
    """

    def __init__(
        self,
        rate: float,
        *,
        limit: int = MESSAGES_PER_SECOND,
        window: float = 1.0,
        margin: float = 0.01,
        lag: float = 0.1,
        reserved: int = RESERVED,
    ) -> None:
        if rate <= 0 or limit < 1:
            raise ValueError("rate and limit must be positive")
        if not 0 <= reserved < limit:
            raise ValueError("the replies' reserve must leave bulk at least one send")
        self.rate = rate
        self.interval = 1 / rate
        self.factor = 1.0  # of ``rate``, lowered by 429s
        self.floor = min(1.0, FLOOR * limit / rate)
        self.limit = limit
        self.span = window + margin
        self.lag = lag
        self._slot = -math.inf  # the last slot granted
        self._paused_until = -math.inf
        self._calm_since = -math.inf
        self._recent: deque[Stamp] = deque(maxlen=limit)
        self.reserved = reserved
        self._answered_at = -math.inf  # the last reply's grant

    def next_slot(self, now: float, lane: Lane = Lane.BULK) -> float:
        if lane is Lane.INTERACTIVE:
            return max(now, self._window_room(self.limit))
        slot = self._slot + self.interval
        if slot < now - self.lag:  # idle, or too far behind to catch up: start from now
            slot = now
        talking = now - self._answered_at < TALKING
        return max(slot, self._window_room(self.limit - self.reserved * talking))

    def _window_room(self, sends: int) -> float:
        """The earliest moment at which the last ``sends`` sends span no less than the
        window, and no pause holds."""
        room = self._paused_until
        if len(self._recent) >= sends:
            room = max(room, self._recent[-sends].at + self.span)
        return room

    def grant(self, now: float, lane: Lane = Lane.BULK) -> Stamp:
        """Use the lane's next slot (due by ``now``); the stamp may be moved to the real
        start."""
        slot = self.next_slot(now, lane)
        if slot > now:
            raise ValueError("the next slot is not due yet")
        if self.factor < 1 and now - self._calm_since >= CALM:
            self._set_factor(min(1.0, self.factor / SLOWER))
            self._calm_since = now
        if lane is Lane.INTERACTIVE:
            self._answered_at = now
        else:
            self._slot = slot
        stamp = Stamp(now)
        self._recent.append(stamp)
        return stamp

    def pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def slow_down(self, now: float) -> None:
        self._set_factor(max(self.floor, self.factor * SLOWER))
        self._calm_since = now

    def _set_factor(self, factor: float) -> None:
        self.factor = factor
        self.interval = 1 / (self.rate * factor)


class ChatPace:
    """Per-chat limits as a generic cell rate: ``interval`` apart on average, ``burst`` at
    once; ``claim`` reserves the chat's next turn and says how long to wait for it."""

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.tolerance = interval * (burst - 1)
        self._due: dict[int | str, float] = {}  # chat -> theoretical arrival time
        self._prune_at = 1024

    def claim(self, chat: int | str, now: float) -> float:
        due = max(self._due.get(chat, now), now)
        wait = max(0.0, due - self.tolerance - now)
        self._due[chat] = due + self.interval
        if len(self._due) > self._prune_at:  # forget the chats whose turns are long past
            self._due = {c: d for c, d in self._due.items() if d > now}
            self._prune_at = max(1024, 2 * len(self._due))
        return wait


class PacedRateLimiter(BaseRateLimiter[Lane | int]):
    """Two lanes, one absolute schedule, 429s paused for and retried."""

    def __init__(
        self,
        *,
        limit: int = MESSAGES_PER_SECOND,
        pace: float | None = None,
        margin: float = 0.01,
        lag: float = 0.1,
        held: float = 1.0,
        private_chat: tuple[float, int] = PRIVATE_CHAT_RATE,
        group_chat: tuple[float, int] = GROUP_CHAT_RATE,
        max_retries: int = 5,
    ) -> None:
        rate = limit * (PACE if pace is None else pace)
        self.schedule = Schedule(rate, limit=limit, margin=margin, lag=lag)
        self._private = ChatPace(*private_chat)
        self._groups = ChatPace(*group_chat)
        self._max_retries = max_retries
        self._held = held
        self._round_trips: deque[float] = deque(maxlen=256)
        self._lanes: dict[Lane, deque[asyncio.Future[Stamp]]] = {
            Lane.INTERACTIVE: deque(),
            Lane.BULK: deque(),
        }
        self._dispatcher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # a reply came while the dispatcher waits for bulk
        self.refusals = 0  # 429s met, for the logs and the benchmark

    async def initialize(self) -> None:
        """Nothing to open: the dispatcher starts with the first paced call."""

    async def shutdown(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            self._dispatcher = None
        for lane in self._lanes.values():
            while lane:
                lane.popleft().cancel()

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | int | None,
    ) -> Result:
        max_retries = self._max_retries
        if isinstance(rate_limit_args, int) and not isinstance(rate_limit_args, bool):
            max_retries = rate_limit_args
        if not _is_paced(endpoint, data):
            return await self._unpaced(callback, args, kwargs, max_retries)
        lane = rate_limit_args if isinstance(rate_limit_args, Lane) else current_lane()
        loop = asyncio.get_running_loop()
        wait = self._chat_wait(data.get("chat_id"), lane, loop.time())
        if wait > 0:
            await asyncio.sleep(wait)
        front = False
        for attempt in range(max_retries + 1):
            stamp = await self._slot(lane, front=front)
            start = loop.time()
            stamp.at = start + self._held  # in flight: it may reach Telegram that late...
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.refusals += 1
                if attempt == max_retries:
                    log.error("%s refused %d times in a row (429); giving up", endpoint, attempt)
                    raise
                seconds = exc._retry_after.total_seconds()
                log.info(
                    "429 on %s: every lane waits %.1f s, then it goes first", endpoint, seconds
                )
                self.schedule.pause(loop.time() + seconds)
                self.schedule.slow_down(loop.time())
                front = True
            finally:  # ...answered: its start, plus how much longer than the quickest it took
                stamp.at = start + self._delay(loop.time() - start)
        raise AssertionError("unreachable")

    def _delay(self, round_trip: float) -> float:
        """How much later than it could have, at most, a call reached Telegram: its round
        trip beyond the quickest lately (held up on this machine, on the way, or there)."""
        self._round_trips.append(round_trip)
        return min(round_trip - min(self._round_trips), self._held)

    async def _unpaced(
        self, callback: Callback, args: Any, kwargs: dict[str, Any], max_retries: int
    ) -> Result:
        for attempt in range(max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.refusals += 1
                if attempt == max_retries:
                    raise
                await asyncio.sleep(exc._retry_after.total_seconds())
        raise AssertionError("unreachable")

    def _chat_wait(self, chat_id: Any, lane: Lane, now: float) -> float:
        """Telegram's per-chat limits: a group's for every call; a private chat's for bulk
        only (a reply answers a person who just wrote: their own pace bounds it, and a
        dialog's next question must not wait a second)."""
        if chat_id is None:  # an inline message: the overall pace only
            return 0.0
        try:
            chat: int | str = int(chat_id)
        except (TypeError, ValueError):
            chat = str(chat_id)  # @channelname: a channel, paced as a group
        if isinstance(chat, int) and chat > 0:
            return self._private.claim(chat, now) if lane is Lane.BULK else 0.0
        return self._groups.claim(chat, now)

    async def _slot(self, lane: Lane, *, front: bool) -> Stamp:
        """Wait for this call's slot on the overall schedule.

        A reply that nothing holds (no reply before it, room in the window, no pause) is
        granted here, in its own turn: through the pacing task it took two more turns of
        the loop, and while the loop is busy (the report building its pledges a slice per
        turn) each turn costs a slice."""
        loop = asyncio.get_running_loop()
        if lane is Lane.INTERACTIVE and not front and self._head_of(lane) is None:
            now = loop.time()
            if self.schedule.next_slot(now, lane) <= now:
                return self.schedule.grant(now, lane)
        future: asyncio.Future[Stamp] = loop.create_future()
        queue = self._lanes[lane]
        if front:
            queue.appendleft(future)
        else:
            queue.append(future)
        if lane is Lane.INTERACTIVE:
            self._wake.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = loop.create_task(self._dispatch(), name="telegram-pacing")
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done():
                queue.remove(future)
            raise

    def _head(self) -> tuple[Lane, asyncio.Future[Stamp]] | None:
        for lane in (Lane.INTERACTIVE, Lane.BULK):
            head = self._head_of(lane)
            if head is not None:
                return lane, head
        return None

    def _head_of(self, lane: Lane) -> asyncio.Future[Stamp] | None:
        queue = self._lanes[lane]
        while queue and queue[0].done():  # cancelled while waiting
            queue.popleft()
        return queue[0] if queue else None

    async def _dispatch(self) -> None:
        """Hand out the slots: to the head of the interactive lane as soon as the window
        has room for it, else to bulk at its next slot."""
        loop = asyncio.get_running_loop()
        while True:
            found = self._head()
            if found is None:
                return
            lane, head = found
            now = loop.time()
            slot = self.schedule.next_slot(now, lane)
            if slot > now:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # a reply may come in the meantime
                    await asyncio.wait_for(self._wake.wait(), slot - now)
                continue  # whoever is first now gets it
            self._lanes[lane].popleft()
            head.set_result(self.schedule.grant(now, lane))


def _is_paced(endpoint: str, data: dict[str, Any]) -> bool:
    """Calls that put or change a message in a chat; reads and answers are not counted."""
    if endpoint.startswith(("get", "answer", "set", "delete")) and endpoint != "deleteMessage":
        return False
    return "chat_id" in data or "inline_message_id" in data
