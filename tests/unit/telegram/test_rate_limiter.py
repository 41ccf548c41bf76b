"""The Telegram pacing: the schedule's arithmetic on a fake clock (slots evenly spaced, a
late wake-up caught up, the window guard, a 429's pause), the per-chat limits, and the
lanes on a real event loop with a callback standing in for HTTP (interactive calls jump
the bulk queue, calls that send nothing never wait, a 429 is retried first)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from adapters.telegram.rate_limiter import (
    ChatPace,
    Lane,
    PacedRateLimiter,
    Schedule,
    answering,
    current_lane,
)


def run(schedule: Schedule, count: int, *, start: float = 0.0, late: dict[int, float]) -> list:
    """Grant ``count`` slots back to back, waking ``late[k]`` seconds after slot k is due."""
    now, grants = start, []
    for k in range(count):
        now = max(now, schedule.next_slot(now)) + late.get(k, 0.0)
        schedule.grant(now)
        grants.append(now)
    return grants


def test_slots_are_evenly_spaced_at_the_rate() -> None:
    grants = run(Schedule(20, limit=30), 10, start=5.0, late={})
    assert grants == pytest.approx([5.0 + k / 20 for k in range(10)])


def test_a_late_wake_up_does_not_push_later_slots_back() -> None:
    grants = run(Schedule(20, limit=30, lag=0.1), 10, late={3: 0.08})
    assert grants[3] == pytest.approx(3 / 20 + 0.08)
    # slot 4 was due before the late grant: it goes at once; from 5 on, the grid again
    assert grants[4] == pytest.approx(grants[3])
    assert grants[5:] == pytest.approx([k / 20 for k in range(5, 10)])


def test_a_stall_longer_than_the_lag_restarts_from_now_without_a_burst() -> None:
    grants = run(Schedule(20, limit=30, lag=0.1), 4, late={1: 2.0})
    assert grants[1] == pytest.approx(2.05)
    assert grants[2:] == pytest.approx([2.1, 2.15])


def test_after_idling_the_first_message_goes_at_once_and_the_next_one_a_slot_later() -> None:
    schedule = Schedule(20, limit=30)
    schedule.grant(0.0)
    assert schedule.next_slot(10.0) == 10.0
    schedule.grant(10.0)
    assert schedule.next_slot(10.0) == pytest.approx(10.05)


def test_no_more_than_limit_sends_within_the_window_even_when_catching_up() -> None:
    schedule = Schedule(100, limit=5, window=1.0, margin=0.01, lag=10.0)
    grants = run(schedule, 11, late={})
    assert grants[5] == pytest.approx(grants[0] + 1.01)
    assert grants[10] == pytest.approx(grants[5] + 1.01)
    assert all(b - a >= 1.0 for a, b in zip(grants, grants[5:], strict=False))


def test_a_pause_holds_every_slot_until_it_ends() -> None:
    schedule = Schedule(20, limit=30)
    schedule.grant(0.0)
    schedule.pause(1.5)
    assert schedule.next_slot(0.06) == 1.5
    schedule.grant(1.5)
    assert schedule.next_slot(1.5) == pytest.approx(1.55)


def test_a_private_chat_gets_a_short_burst_then_one_a_second() -> None:
    pace = ChatPace(1.0, 3)
    assert [pace.claim(42, 0.0) for _ in range(5)] == pytest.approx([0, 0, 0, 1.0, 2.0])
    assert pace.claim(43, 0.0) == 0  # another chat is not held up
    assert pace.claim(42, 10.0) == 0  # long after, a burst again


# --- the lanes, on a real event loop -------------------------------------------------


class Recorder:
    """Stands in for PTB's HTTP call: records the order of calls, can refuse with 429."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refuse: dict[str, int] = {}  # name -> 429s still to give

    def callback(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> bool:
            self.calls.append(name)
            if self.refuse.get(name):
                self.refuse[name] -= 1
                raise RetryAfter(0)
            return True

        return call


async def send(
    limiter: PacedRateLimiter,
    recorder: Recorder,
    name: str,
    *,
    endpoint: str = "sendMessage",
    chat: int | None = None,
    lane: Lane | None = None,
) -> Any:
    data: dict[str, Any] = {} if chat is None and endpoint != "sendMessage" else {"chat_id": chat}
    return await limiter.process_request(recorder.callback(name), (), {}, endpoint, data, lane)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_interactive_call_takes_the_next_slot_ahead_of_the_bulk_queue() -> None:
    limiter, recorder = PacedRateLimiter(limit=20, pace=1.0), Recorder()
    bulk = [asyncio.create_task(send(limiter, recorder, f"bulk{k}", chat=k + 1)) for k in range(8)]
    await settle()  # the first bulk message is out, seven wait

    async def reply() -> Any:
        answering()  # as the update's first handler does
        return await send(limiter, recorder, "reply", chat=1000)

    await asyncio.gather(reply(), *bulk)
    assert recorder.calls.index("reply") <= 1
    assert recorder.calls.index("reply") < recorder.calls.index("bulk1")
    assert sorted(recorder.calls) == sorted(["reply", *(f"bulk{k}" for k in range(8))])
    await limiter.shutdown()


async def test_a_call_that_sends_no_message_does_not_wait_behind_bulk() -> None:
    limiter, recorder = PacedRateLimiter(limit=20, pace=1.0), Recorder()
    bulk = [asyncio.create_task(send(limiter, recorder, f"bulk{k}", chat=k + 1)) for k in range(6)]
    await settle()
    await send(limiter, recorder, "answer", endpoint="answerCallbackQuery")
    assert recorder.calls[:2] == ["bulk0", "answer"]
    await asyncio.gather(*bulk)
    await limiter.shutdown()


async def test_a_429_pauses_and_the_message_is_retried_never_lost() -> None:
    limiter, recorder = PacedRateLimiter(limit=50, pace=1.0), Recorder()
    recorder.refuse["bulk1"] = 2
    results = await asyncio.gather(
        *(send(limiter, recorder, f"bulk{k}", chat=k + 1) for k in range(4))
    )
    assert results == [True] * 4
    # retried at the head of the lane (a late event loop may have let slots already due
    # go to the next ones before the 429 came back: the order beyond is not asserted)
    assert sorted(recorder.calls) == ["bulk0", "bulk1", "bulk1", "bulk1", "bulk2", "bulk3"]
    assert limiter.refusals == 2
    await limiter.shutdown()


async def test_after_max_retries_the_429_is_raised() -> None:
    limiter, recorder = PacedRateLimiter(limit=50, pace=1.0, max_retries=1), Recorder()
    recorder.refuse["stuck"] = 5
    with pytest.raises(RetryAfter):
        await send(limiter, recorder, "stuck", chat=7)
    assert recorder.calls == ["stuck", "stuck"]
    await limiter.shutdown()


async def test_only_the_answering_task_within_its_budget_is_interactive() -> None:
    assert current_lane() is Lane.BULK  # no update being answered

    async def in_task() -> Lane:
        return current_lane()

    async def handler() -> list[Lane]:
        answering(budget=2)
        spawned = await asyncio.create_task(in_task())
        return [spawned, current_lane(), current_lane(), current_lane()]

    async def handler_spawning() -> Lane:
        answering()
        return await asyncio.create_task(in_task())  # inherits the mark, is another task

    assert await handler_spawning() is Lane.BULK
    lanes = await asyncio.create_task(handler())
    assert lanes == [Lane.BULK, Lane.INTERACTIVE, Lane.INTERACTIVE, Lane.BULK]


def test_a_429_slows_the_pace_a_step_and_calm_brings_it_back() -> None:
    schedule = Schedule(30, limit=30)
    schedule.grant(0.0)
    schedule.slow_down(0.0)
    slower = schedule.next_slot(0.0)
    assert slower == pytest.approx(1 / 30 / 0.97)
    schedule.grant(slower)
    assert schedule.next_slot(slower) == pytest.approx(2 * slower)
    schedule.grant(100.0)  # long calm: a step back up
    assert schedule.next_slot(100.0) == pytest.approx(100 + 1 / 30)


async def test_a_private_chat_limit_holds_bulk_back_but_not_replies() -> None:
    limiter, recorder = PacedRateLimiter(limit=1000, pace=1.0), Recorder()
    # four bulk messages to one person: the fourth waits for that chat's next turn
    bulk = [asyncio.create_task(send(limiter, recorder, f"bulk{k}", chat=42)) for k in range(4)]
    await settle()
    await asyncio.sleep(0.05)

    async def replies() -> None:
        answering(budget=4)
        for k in range(4):  # a dialog's answers to the same person go on at once
            await send(limiter, recorder, f"reply{k}", chat=42)

    await replies()
    assert recorder.calls == ["bulk0", "bulk1", "bulk2", "reply0", "reply1", "reply2", "reply3"]
    await asyncio.gather(*bulk)
    assert recorder.calls[-1] == "bulk3"
    await limiter.shutdown()


def test_while_people_are_answered_bulk_leaves_room_and_a_reply_goes_at_once() -> None:
    schedule = Schedule(29.1, limit=30, reserved=3)
    schedule.grant(0.0, Lane.INTERACTIVE)  # someone was answered: they may talk on
    now, bulk = 0.0, []
    while now < 3.0:  # a broadcast as fast as bulk may go
        now = schedule.next_slot(now)
        schedule.grant(now)
        bulk.append(now)
        # at any moment of it, a reply finds room in the window at once
        assert schedule.next_slot(now, Lane.INTERACTIVE) == now
    assert all(b - a >= 1.0 for a, b in zip(bulk, bulk[27:], strict=False))  # 27 a window
    reply = schedule.next_slot(now, Lane.INTERACTIVE)
    schedule.grant(reply, Lane.INTERACTIVE)
    assert schedule.next_slot(reply) >= bulk[-1] + 1 / 29.1  # bulk keeps its own grid


def test_with_no_one_talking_bulk_has_the_whole_pace() -> None:
    schedule = Schedule(29.1, limit=30, reserved=3)
    schedule.grant(0.0, Lane.INTERACTIVE)
    grants = run(schedule, 60, start=100.0, late={})  # long after the last reply
    assert grants[59] - grants[0] == pytest.approx(59 / 29.1)


def test_replies_never_break_the_window_either() -> None:
    schedule = Schedule(20, limit=5, window=1.0, margin=0.01, reserved=2)
    grants = []
    now = 0.0
    for _ in range(11):  # a crowd of replies, back to back
        now = schedule.next_slot(now, Lane.INTERACTIVE)
        schedule.grant(now, Lane.INTERACTIVE)
        grants.append(now)
    assert grants[:5] == [0.0] * 5
    assert grants[5] == pytest.approx(1.01) and grants[10] == pytest.approx(2.02)


async def test_a_reply_does_not_wait_for_the_broadcasts_next_slot() -> None:
    limiter, recorder = PacedRateLimiter(limit=30, pace=0.97), Recorder()
    loop = asyncio.get_running_loop()

    async def reply(name: str) -> float:
        answering()
        asked = loop.time()
        await send(limiter, recorder, name, chat=1000)
        return loop.time() - asked

    await reply("first")  # people are talking
    bulk = [
        asyncio.create_task(send(limiter, recorder, f"bulk{k}", chat=k + 1)) for k in range(20)
    ]
    await asyncio.sleep(0.2)  # the broadcast is going, a slot every 34 ms
    waited = [await reply(f"reply{k}") for k in range(3)]
    assert max(waited) < 0.02  # not a slot's wait: at once (generous for a busy machine)
    await asyncio.gather(*bulk)
    await limiter.shutdown()


async def test_a_reply_with_room_in_the_window_goes_in_the_turn_it_is_made() -> None:
    """No trip through the pacing task when nothing holds a reply: each turn of the loop a
    reply waits for is a turn of whatever else runs (the report building its pledges a
    slice per turn, 3-5 ms each), and a reply's way out already takes several."""
    limiter, recorder = PacedRateLimiter(limit=30, pace=0.97), Recorder()
    bulk = [asyncio.create_task(send(limiter, recorder, f"bulk{k}", chat=k + 1)) for k in range(5)]
    await settle()  # a broadcast under way: its next slot is not due yet

    async def reply() -> Any:
        answering()
        return await send(limiter, recorder, "reply", chat=1000)

    replying = asyncio.create_task(reply())
    await asyncio.sleep(0)  # one turn: the reply's task runs once
    assert "reply" in recorder.calls
    await replying
    await asyncio.gather(*bulk)
    await limiter.shutdown()
