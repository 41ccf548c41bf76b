"""A claimed message on its way is not cut off by a cancellation; a stop waits for it,
within its grace period."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.blast.once import InFlight


async def test_a_cancelled_caller_leaves_its_unit_running_and_settle_waits() -> None:
    units, sent, release = InFlight(), [], asyncio.Event()

    async def claim_and_send() -> str:
        await release.wait()
        sent.append("report")
        return "sent"

    caller = asyncio.create_task(units.run(claim_and_send()))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert units.pending == 1 and sent == []
    settling = asyncio.create_task(units.settle(grace=5))
    await asyncio.sleep(0.01)
    release.set()
    await settling
    assert sent == ["report"] and units.pending == 0


async def test_a_unit_past_the_grace_is_cut_off_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = InFlight()
    caller = asyncio.create_task(units.run(asyncio.sleep(60)))
    await asyncio.sleep(0)
    caller.cancel()
    with caplog.at_level(logging.WARNING):
        await units.settle(grace=0.01)
    assert units.pending == 0
    assert "cut off" in caplog.text


async def test_the_error_of_a_unit_whose_caller_is_gone_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    units = InFlight()
    release = asyncio.Event()

    async def fails() -> None:
        await release.wait()
        raise RuntimeError("Bad Gateway")

    caller = asyncio.create_task(units.run(fails()))
    await asyncio.sleep(0)
    caller.cancel()
    release.set()
    with caplog.at_level(logging.WARNING):
        await units.settle(grace=5)
    assert "Bad Gateway" in caplog.text


async def test_a_caller_still_there_gets_the_result_or_the_error() -> None:
    units = InFlight()

    async def fails() -> None:
        raise RuntimeError("Bad Gateway")

    async def answers() -> int:
        return 7

    assert await units.run(answers()) == 7
    with pytest.raises(RuntimeError):
        await units.run(fails())
    await units.settle()
