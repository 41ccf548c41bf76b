"""A method of one statement runs it alone, in autocommit, under the connection's lock.

On SQLite that is one trip to aiosqlite's thread instead of three (BEGIN, the statement,
COMMIT); these tests pin what must not change with it: it never runs inside another
caller's transaction, a failure or a cancellation leaves no transaction open, and a
session opened for one statement refuses a second.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import timedelta

import pytest

from bot.ports import Repository
from storage import rows
from storage.repository import INSERT_CAMPAIGN
from storage.sqlite import SqliteRepository
from tests.integration.storage.builders import T0, account, campaign, pledge


def _sqlite(repo: Repository) -> SqliteRepository:
    assert isinstance(repo, SqliteRepository)
    return repo


async def test_a_single_statement_waits_for_a_running_transaction(repo: Repository) -> None:
    sqlite = _sqlite(repo)
    inside, release = asyncio.Event(), asyncio.Event()

    async def rolled_back() -> None:
        async with sqlite.transaction() as db:
            values = rows.campaign_values(campaign(), sqlite._codec)
            await db.fetch_one(INSERT_CAMPAIGN, *values)  # not committed yet
            inside.set()
            await release.wait()
            raise RuntimeError("roll back")

    writer = asyncio.create_task(rolled_back())
    await inside.wait()
    read = asyncio.create_task(sqlite.find_campaign("K7QX2M"))
    written = asyncio.create_task(sqlite.consume_nonce("n1", T0 + timedelta(days=1)))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError, match="roll back"):
        await writer
    # run inside that transaction, the read would have seen its row and the write would
    # have been rolled back with it
    assert await read is None
    assert await written is True
    assert await sqlite.nonce_used("n1")
    assert not sqlite._db.in_transaction


async def test_a_failing_single_statement_leaves_no_transaction_open(repo: Repository) -> None:
    sqlite = _sqlite(repo)
    linked = await sqlite.save_account(account())
    with pytest.raises(sqlite3.IntegrityError):  # no campaign 999: the foreign key refuses
        await sqlite.add_pledge(pledge(999, linked))
    assert not sqlite._db.in_transaction
    assert not sqlite._lock.locked()
    stored = await sqlite.add_campaign(campaign())  # the connection still works
    assert stored.id is not None
    assert [p.campaign_id for p in [await sqlite.add_pledge(pledge(stored.id, linked))]] == [
        stored.id
    ]


async def test_a_cancelled_single_statement_holds_the_lock_until_it_ends(
    repo: Repository,
) -> None:
    sqlite = _sqlite(repo)
    running, release = threading.Event(), threading.Event()

    def hold() -> int:  # runs on aiosqlite's thread: the statement lasts until released
        running.set()
        release.wait(30)
        return 1

    await sqlite._db.create_function("hold", 0, hold)

    async def held() -> None:
        async with sqlite._single(write=False) as db:
            await db.fetch_one("SELECT hold() AS held")

    task = asyncio.create_task(held())
    await asyncio.to_thread(running.wait, 30)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.2)
    assert not done  # the cancellation waits for the statement, the lock held meanwhile
    assert sqlite._lock.locked()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not sqlite._lock.locked()
    assert not sqlite._db.in_transaction


async def test_a_single_statement_session_refuses_a_second(repo: Repository) -> None:
    sqlite = _sqlite(repo)
    async with sqlite._single(write=False) as db:
        assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}
        with pytest.raises(RuntimeError, match="second statement"):
            await db.fetch_one("SELECT 2 AS two")
    assert not sqlite._db.in_transaction
