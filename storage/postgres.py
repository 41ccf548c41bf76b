"""The Repository on PostgreSQL (asyncpg): a pool, one transaction per method.

Several bot processes may share one database: optimistic locking on ``version`` and
insert-unique claims keep them from stepping on each other, and an advisory lock keeps two
processes from migrating at once. The shared statements are already in PostgreSQL's
spelling; what is PostgreSQL's own here is the pool, that lock and the bulk paths
(pipelined ``fetchmany``, one ``unnest`` update per chunk).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.crypto import TokenCipher
from storage import DEFAULT_POOL_SIZE, rows
from storage.repository import (
    CHUNK,
    SET_RECRUIT_CODE,
    UPSERT_ACCOUNT,
    SqlRepository,
    Values,
)

MIGRATION_LOCK = 0x43484F52  # "CHOR": advisory lock id held while migrating

_RECORD_DELIVERIES = """
UPDATE pledges AS p
SET status = d.status, delivery = d.delivery, delivery_mode = d.delivery_mode,
    failure_reason = d.failure_reason, remote_post_id = d.remote_post_id,
    remote_post_url = d.remote_post_url, posted_at = d.posted_at, version = p.version + 1
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::timestamptz[])
     AS d(id, status, delivery, delivery_mode, failure_reason, remote_post_id,
          remote_post_url, posted_at)
WHERE p.id = d.id
"""


_PLEDGE_TYPES = {
    "campaign_id": "bigint",
    "account_id": "bigint",
    "created_at": "timestamptz",
    "posted_at": "timestamptz",
    "variant": "integer",
}
_INSERT_PLEDGES = (
    f"INSERT INTO pledges ({', '.join(rows.PLEDGE_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(
        f"${n}::{_PLEDGE_TYPES.get(column, 'text')}[]"
        for n, column in enumerate(rows.PLEDGE_COLUMNS, 1)
    )
    + ") ON CONFLICT (campaign_id, account_id) DO NOTHING RETURNING *"
)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next use, beyond what asyncpg does anyway
    (roll back an open transaction, drop the listeners it holds): nothing. asyncpg's
    default sends a reset (UNLISTEN *, RESET ALL, advisory locks released...) on every
    release, a round trip each database call waited for. Chorus leaves no session state
    on a pooled connection: its locks are transaction-scoped, the leader's session lock
    lives on a connection of its own, and the blast queue's LISTEN is removed before its
    connection goes back."""


async def _init_connection(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class PostgresSession:
    """The shared statements over one pooled asyncpg connection, inside a transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, *params: Any) -> None:
        await self.connection.execute(sql, *params)

    async def fetch_one(self, sql: str, *params: Any) -> rows.Row | None:
        row: rows.Row | None = await self.connection.fetchrow(sql, *params)
        return row

    async def fetch_all(self, sql: str, *params: Any) -> list[rows.Row]:
        return list(await self.connection.fetch(sql, *params))


class PostgresRepository(SqlRepository[PostgresSession]):
    """Everything the core stores, in PostgreSQL (optionally inside one schema)."""

    dialect = "postgres"
    version_table = (
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )

    def __init__(self, pool: asyncpg.Pool, cipher: TokenCipher) -> None:
        super().__init__(rows.NativeCodec(cipher))
        self._pool = pool

    @classmethod
    async def connect(
        cls,
        dsn: str,
        cipher: TokenCipher,
        *,
        schema: str | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> PostgresRepository:
        """Open a pool of up to ``pool_size`` connections on ``dsn``; with ``schema``,
        create it if needed and work inside it."""
        settings: dict[str, str] = {}
        if schema is not None:
            rows.identifier(schema)
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            finally:
                await connection.close()
            settings["search_path"] = schema
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            server_settings=settings,
            init=_init_connection,
            reset=_keep_session,
        )
        return cls(pool, cipher)

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool (the blast queue holds one connection to LISTEN on)."""
        return self._pool

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[PostgresSession]:
        async with self._tx() as connection:
            yield PostgresSession(connection)

    @asynccontextmanager
    async def _single(self, *, write: bool = True) -> AsyncIterator[PostgresSession]:
        """A pooled connection outside a transaction: its one statement autocommits (one
        round trip, not three)."""
        async with self._pool.acquire() as connection:
            yield PostgresSession(connection)

    async def _reads(self, *queries: tuple[str, Sequence[Any]]) -> list[list[rows.Row]]:
        """The reads one after the other on one pooled connection, each autocommitted (a
        transaction around them would cost two more round trips)."""
        async with self._pool.acquire() as connection:
            return [list(await connection.fetch(sql, *params)) for sql, params in queries]

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction (the benchmark seeds through it)."""
        async with self._pool.acquire() as connection, connection.transaction():
            yield connection

    async def _lock_migrations(self, db: PostgresSession) -> None:
        await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)

    async def _run_script(self, db: PostgresSession, script: str) -> None:
        await db.execute(script)  # no parameters: the simple protocol runs many statements

    # bulk paths: pipelined statements that return their rows, one unnest per chunk -------

    async def _upsert_accounts(self, db: PostgresSession, values: list[Values]) -> list[rows.Row]:
        # a row each, except for an account another person owns (the caller refuses that)
        return list(await db.connection.fetchmany(UPSERT_ACCOUNT, values))

    async def _insert_pledges(self, db: PostgresSession, values: list[Values]) -> list[rows.Row]:
        # one statement per chunk, so the tallies' triggers run once per chunk, not per row
        added: list[rows.Row] = []
        for start in range(0, len(values), CHUNK):
            columns = [list(column) for column in zip(*values[start : start + CHUNK], strict=True)]
            added += await db.connection.fetch(_INSERT_PLEDGES, *columns)  # none if skipped
        return sorted(added, key=lambda row: row["id"])

    async def _write_recruit_codes(
        self, db: PostgresSession, params: list[tuple[str, int]]
    ) -> None:
        await db.connection.executemany(SET_RECRUIT_CODE, params)

    async def _write_deliveries(
        self, db: PostgresSession, ids: list[int | None], values: list[Values]
    ) -> None:
        for start in range(0, len(ids), CHUNK):
            columns = zip(*values[start : start + CHUNK], strict=True)
            await db.execute(_RECORD_DELIVERIES, ids[start : start + CHUNK], *map(list, columns))
