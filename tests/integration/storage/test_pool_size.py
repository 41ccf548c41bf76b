"""A process's PostgreSQL pools: bounded by its settings (each `chorus run` holds at most
DATABASE_POOL_SIZE connections in its main loop's pool and BLAST_DATABASE_POOL_SIZE in the
blast thread's, so a deployment can keep every process under the server's limit), and a
connection goes back to its pool without a reset round trip, yet carrying no state."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest

from bot.runtime import _open_blast_job, open_storage
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage.blast_queue import PostgresBlastQueue
from storage.postgres import PostgresRepository
from tests.conftest import TEST_SECRET


@pytest.mark.postgres
async def test_the_main_pool_holds_at_most_its_size(postgres_schema_url: str) -> None:
    repo = await open_storage(postgres_schema_url, TEST_SECRET, pool_size=3)
    assert isinstance(repo, PostgresRepository)
    try:
        await repo.migrate()

        async def hold() -> int:
            async with repo.pool.acquire() as connection:
                await asyncio.sleep(0.05)
                return int(await connection.fetchval("SELECT pg_backend_pid()"))

        pids = await asyncio.gather(*(hold() for _ in range(7)))
        assert repo.pool.get_max_size() == 3
        assert len(set(pids)) <= 3  # seven at once shared three connections
    finally:
        await repo.close()


@pytest.mark.postgres
async def test_the_blast_thread_opens_a_pool_of_its_own_size(postgres_schema_url: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=postgres_schema_url,
        blast_database_pool_size=2,
    )
    repo = await open_storage(postgres_schema_url, TEST_SECRET)
    await repo.migrate()
    await repo.close()
    async with AsyncExitStack() as stack:
        worker = await _open_blast_job(
            settings,
            postgres_schema_url,
            TEST_SECRET,
            FakeClock(datetime(2030, 1, 1, tzinfo=UTC)),
            "test-owner",
            None,
            stack,
        )
        blast_repo = worker._repo  # the worker posts through the thread's own pool
        assert isinstance(blast_repo, PostgresRepository)
        assert blast_repo.pool.get_max_size() == 2


@pytest.mark.postgres
async def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(
    postgres_schema_url: str,
) -> None:
    """asyncpg's default reset sends a statement on every release, which each database call
    waited for; Chorus leaves no session state behind, so nothing is sent. What state there
    is still goes: a transaction left open is rolled back, a LISTEN removed by its owner."""
    repo = await open_storage(postgres_schema_url, TEST_SECRET, pool_size=2)
    assert isinstance(repo, PostgresRepository)
    try:
        await repo.migrate()
        sent: list[str] = []
        connection = await repo.pool.acquire()
        connection.add_query_logger(lambda record: sent.append(record.query))
        await connection.fetchval("SELECT 1")
        await repo.pool.release(connection)
        assert sent == ["SELECT 1"]  # the release itself sent nothing

        connection = await repo.pool.acquire()
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMPORARY TABLE left_open (n int) ON COMMIT DROP")
        await repo.pool.release(connection)
        again = await repo.pool.acquire()
        try:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
            assert await again.fetch("SELECT pg_listening_channels()") == []
        finally:
            await repo.pool.release(again)
    finally:
        await repo.close()


@pytest.mark.postgres
async def test_the_blast_queue_gives_its_connection_back_no_longer_listening(
    postgres_schema_url: str,
) -> None:
    repo = await open_storage(postgres_schema_url, TEST_SECRET, pool_size=2)
    assert isinstance(repo, PostgresRepository)
    try:
        await repo.migrate()
        queue = PostgresBlastQueue(repo)
        await queue.listen()
        await queue.close()
        held = [await repo.pool.acquire() for _ in range(2)]  # every connection of the pool
        try:
            for connection in held:
                assert await connection.fetch("SELECT pg_listening_channels()") == []
        finally:
            for connection in held:
                await repo.pool.release(connection)
    finally:
        await repo.close()
