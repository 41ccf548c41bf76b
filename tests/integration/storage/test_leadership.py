"""The leadership on the real PostgreSQL: one holder per schema, freed when its session ends
(given back, closed, or killed by the server), and campaign news carried by NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.leadership import SoleLeadership
from storage import open_leadership, postgres_target
from storage.leadership import LEADER_LOCK, PostgresLeadership
from tests.integration.conftest import postgres_url

pytestmark = pytest.mark.postgres
GUARD = 20.0  # seconds before a stuck wait fails the test (a guard, not a speed check)


@pytest.fixture
async def claims(postgres_schema_url: str) -> AsyncIterator[list[PostgresLeadership]]:
    """Three processes' claims on one deployment (one schema), closed afterwards."""
    made = [open_leadership(postgres_schema_url) for _ in range(3)]
    assert all(isinstance(claim, PostgresLeadership) for claim in made)
    try:
        yield made  # type: ignore[misc]
    finally:
        for claim in made:
            await claim.close()


async def holder_pid(schema: str) -> int | None:
    admin = await asyncpg.connect(postgres_url())
    try:
        pid: int | None = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid = $1::bigint::oid AND objid = hashtext($2)::oid",
            LEADER_LOCK,
            schema,
        )
        return pid
    finally:
        await admin.close()


async def test_one_claim_leads_the_others_wait_and_one_takes_over_when_it_lets_go(
    claims: list[PostgresLeadership],
) -> None:
    first, second, third = claims
    assert await first.acquire()
    assert not await second.acquire() and not await third.acquire()
    assert await first.held()
    assert not await second.held()
    assert await first.acquire()  # asking again while leading changes nothing

    await first.release()
    assert not await first.held()
    assert await second.acquire()
    assert not await first.acquire() and not await third.acquire()

    await second.close()  # a process that stops frees it too
    assert await third.acquire()


async def test_a_leader_whose_session_is_killed_knows_it_and_another_takes_over(
    claims: list[PostgresLeadership], postgres_schema_url: str
) -> None:
    first, second, _ = claims
    assert await first.acquire()
    _, schema = postgres_target(postgres_schema_url)
    assert schema is not None
    pid = await holder_pid(schema)
    assert pid is not None
    admin = await asyncpg.connect(postgres_url())
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    assert not await first.held()  # the link is gone: leadership lost at once
    async with asyncio.timeout(GUARD):  # the server frees the lock as the session ends
        while not await second.acquire():  # noqa: ASYNC110 - polling the server
            await asyncio.sleep(0.05)
    assert not await first.acquire()  # reconnects, but the lock is taken


async def test_schemas_are_separate_deployments_each_with_its_leader(
    postgres_schema_url: str,
) -> None:
    other_url = postgres_schema_url.replace("schema=chorus_test_", "schema=chorus_other_")
    here, there = open_leadership(postgres_schema_url), open_leadership(other_url)
    try:
        assert await here.acquire() and await there.acquire()
    finally:
        await here.close()
        await there.close()


async def test_a_followers_news_reaches_every_listener(
    claims: list[PostgresLeadership],
) -> None:
    leader, follower, _ = claims
    heard: asyncio.Queue[int] = asyncio.Queue()
    leader.listen(heard.put_nowait)
    assert await leader.acquire()
    await follower.announce(42)
    async with asyncio.timeout(GUARD):
        assert await heard.get() == 42


def test_sqlite_has_one_process_that_always_leads() -> None:
    assert isinstance(open_leadership("sqlite:///data/chorus.db"), SoleLeadership)


def test_an_unsafe_schema_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        open_leadership("postgresql://postgres@127.0.0.1/test?schema=a%22b")
