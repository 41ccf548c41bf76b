"""A read of many rows does not hold the event loop while it builds the core objects.

Building 10,000 pledges from their rows took 50-100 ms of one uninterrupted turn of the
loop (the report and each supporter's result read every pledge of the campaign), and every
reply waiting meanwhile waited that long. The repository builds them a slice at a time and
lets the loop run in between. Here a task counts the loop's turns; each built object notes
the count: they must span many turns, on both back ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.ports import Repository
from storage.repository import SqlRepository
from tests.integration.storage.builders import campaign

ROWS = 5000


async def test_building_many_objects_lets_the_loop_turn(any_repo: Repository) -> None:
    assert isinstance(any_repo, SqlRepository)
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    turns = 0
    done = False

    async def count_turns() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []

    def from_row(row: Any, codec: Any) -> int:
        seen.append(turns)
        return int(row["n"])

    counter = asyncio.create_task(count_turns())
    try:
        built = await any_repo._all(
            from_row,
            "WITH RECURSIVE numbers (n) AS (SELECT 1 UNION ALL "
            "SELECT n + 1 FROM numbers WHERE n < $1) SELECT n FROM numbers",
            ROWS,
        )
    finally:
        done = True
        await counter
    assert built == list(range(1, ROWS + 1))
    assert seen[-1] - seen[0] >= ROWS // 1000  # the loop turned while they were built
