"""The Repository on SQLite (aiosqlite): one connection, one transaction per method.

A single connection in WAL mode serves the whole process; an ``asyncio.Lock`` makes each
method one ``BEGIN IMMEDIATE … COMMIT`` (``ROLLBACK`` on error), so concurrent callers in
the event loop never interleave inside a transaction. A method of one statement runs it
alone in autocommit under the same lock (SQLite makes it its own transaction): one trip
to aiosqlite's thread instead of three. SQLite has no arrays: the shared
statements' ``= ANY($n)`` reads a JSON array through ``json_each``, and ``$n`` becomes
SQLite's own numbered ``?n``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.crypto import TokenCipher
from storage import rows, statements
from storage.repository import (
    CHUNK,
    INSERT_PLEDGE,
    SET_RECRUIT_CODE,
    UPSERT_ACCOUNT,
    SqlRepository,
    Values,
)

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
)

# the bulk variants run through executemany, which returns no rows
_UPSERT_ACCOUNTS = UPSERT_ACCOUNT.removesuffix(" RETURNING *")
_INSERT_PLEDGES = INSERT_PLEDGE.removesuffix(" RETURNING *")
_ACCOUNT_KEY = [rows.ACCOUNT_COLUMNS.index(name) for name in ("network", "instance", "remote_id")]
_ACCOUNTS_BY_KEY = """
SELECT a.* FROM json_each(?) AS k
JOIN accounts AS a ON a.network = json_extract(k.value, '$[0]')
 AND a.instance = json_extract(k.value, '$[1]') AND a.remote_id = json_extract(k.value, '$[2]')
ORDER BY k.key
"""
_RECORD_DELIVERY = statements.update_by_id("pledges", rows.DELIVERY_COLUMNS)

T = TypeVar("T")

_ANY = re.compile(r"= ANY\(\$(\d+)\)")
_NUMBERED = re.compile(r"\$(\d+)")
_FOR_UPDATE = re.compile(r"\s+FOR UPDATE\b")


@functools.cache
def sqlite_sql(sql: str) -> str:
    """A shared statement in SQLite's spelling (native SQLite text passes unchanged).

    ``FOR UPDATE`` goes: a write transaction (``BEGIN IMMEDIATE``) holds the database's
    one write lock until it ends, which is more than a row lock."""
    sql = _FOR_UPDATE.sub("", sql)
    return _NUMBERED.sub(r"?\1", _ANY.sub(r"IN (SELECT value FROM json_each($\1))", sql))


def _bind(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(json.dumps(value) if isinstance(value, list) else value for value in params)


class SqliteSession:
    """The shared statements over the one aiosqlite connection, inside a transaction.

    Each statement is one trip to aiosqlite's thread (``execute_fetchall``: run, read,
    done), not three (execute, fetch, close the cursor): on the pledge flow the hand-offs
    between the loop and that thread cost more CPU than the SQL itself. The statements
    here return one row or a few, so reading them all at once costs nothing extra."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, *params: Any) -> None:
        await self.connection.execute_fetchall(sqlite_sql(sql), _bind(params))

    async def fetch_one(self, sql: str, *params: Any) -> rows.Row | None:
        found = await self.connection.execute_fetchall(sqlite_sql(sql), _bind(params))
        for row in found:
            return row  # type: ignore[no-any-return]
        return None

    async def fetch_all(self, sql: str, *params: Any) -> list[rows.Row]:
        return list(await self.connection.execute_fetchall(sqlite_sql(sql), _bind(params)))  # type: ignore[arg-type]

    async def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        await self.connection.executemany(sqlite_sql(sql), params)


class SqliteStatement(SqliteSession):
    """The one statement of a single-statement method, in autocommit.

    SQLite makes a lone statement its own transaction, so it needs no BEGIN and COMMIT:
    one trip to aiosqlite's thread instead of three. The statement runs to its end even if
    the caller is cancelled meanwhile (as ``_control`` does), so the lock is released
    only once the connection is idle; a second statement is refused (it would not be
    atomic with the first)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        super().__init__(connection)
        self._used = False

    async def _run(self, sql: str, params: Sequence[Any]) -> list[rows.Row]:
        if self._used:
            raise RuntimeError("a single-statement session ran a second statement")
        self._used = True
        connection = self.connection
        run = functools.partial(connection._execute_fetchall, sqlite_sql(sql), _bind(params))
        return list(await _trip(connection, run))

    async def execute(self, sql: str, *params: Any) -> None:
        await self._run(sql, params)

    async def fetch_one(self, sql: str, *params: Any) -> rows.Row | None:
        found = await self._run(sql, params)
        return found[0] if found else None

    async def fetch_all(self, sql: str, *params: Any) -> list[rows.Row]:
        return await self._run(sql, params)

    async def execute_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        raise RuntimeError("executemany is one statement per row: use a transaction")


async def _trip(connection: aiosqlite.Connection, function: Callable[[], T]) -> T:
    """``function``'s result, run on the connection's thread: one trip, as aiosqlite's own
    calls make it (its ``_execute``), awaited without a task of its own.

    If the caller is cancelled meanwhile, the thread still runs ``function``: a no-op
    queued behind it comes back once it is done, and only then does the cancellation go
    on, so the connection's state is known when the lock is released."""
    try:
        return await connection._execute(function)  # type: ignore[no-any-return]
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # a closed connection runs nothing more
            await _to_the_end(connection._execute(_nothing))
        raise


def _nothing() -> None:
    return None


async def _to_the_end(work: Awaitable[T]) -> T:
    """``work``'s result; if the caller is cancelled meanwhile, ``work`` (queued on
    aiosqlite's thread, which runs it anyway) is still waited for before the
    cancellation goes on, so the connection's state is known when the lock is released."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])
        raise


class SqliteRepository(SqlRepository[SqliteSession]):
    """Everything the core stores, in one SQLite file (or in memory for tests)."""

    dialect = "sqlite"
    version_table = (
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )

    def __init__(self, connection: aiosqlite.Connection, cipher: TokenCipher) -> None:
        super().__init__(rows.TextCodec(cipher))
        self._db = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: str, cipher: TokenCipher) -> SqliteRepository:
        """Open (creating its folder) the database at ``path`` or ``:memory:``."""
        if path != ":memory:":
            await asyncio.to_thread(Path(path).parent.mkdir, parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = _dict_row
        for pragma in PRAGMAS:
            await connection.execute(pragma)
        return cls(connection, cipher)

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[SqliteSession]:
        async with self._tx(write=write) as connection:
            yield SqliteSession(connection)

    @asynccontextmanager
    async def _tx(self, *, write: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """The connection itself inside one transaction (the benchmark seeds through it)."""
        async with self._locked():
            await self._control("BEGIN IMMEDIATE" if write else "BEGIN")
            yield self._db
            await self._control("COMMIT")

    @asynccontextmanager
    async def _single(self, *, write: bool = True) -> AsyncIterator[SqliteSession]:
        """One statement in autocommit (``SqliteStatement``), under the same lock as a
        transaction, so it never runs inside another caller's transaction."""
        async with self._locked():
            yield SqliteStatement(self._db)

    async def _reads(self, *queries: tuple[str, Sequence[Any]]) -> list[list[rows.Row]]:
        """All the reads in one trip to aiosqlite's thread, inside one read transaction
        opened and closed on that thread."""
        prepared = [(sqlite_sql(sql), _bind(params)) for sql, params in queries]

        def read() -> list[list[rows.Row]]:
            connection = self._db._conn  # on aiosqlite's thread, the connection's own
            connection.execute("BEGIN")
            try:
                return [connection.execute(sql, params).fetchall() for sql, params in prepared]
            finally:
                connection.execute("COMMIT")  # only reads: the same as a rollback

        async with self._locked():
            return await _trip(self._db, read)

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """The connection to this caller alone; whatever fails leaves no transaction open."""
        async with self._lock:
            try:
                yield
            except BaseException:
                if self._db.in_transaction:
                    await self._control("ROLLBACK")
                raise

    async def _control(self, statement: str) -> None:
        """Run BEGIN/COMMIT/ROLLBACK to the end even if the caller is cancelled meanwhile.

        The worker thread runs a queued statement anyway; waiting for it keeps the
        connection's transaction state known before the lock is released.
        """
        await _trip(self._db, functools.partial(self._db._execute_fetchall, statement, ()))

    async def _run_script(self, db: SqliteSession, script: str) -> None:
        for statement in _split_script(script):  # executescript would commit
            await db.connection.execute(statement)

    # bulk paths: executemany in chunks, then read the stored rows back ------------------

    async def _upsert_accounts(self, db: SqliteSession, values: list[Values]) -> list[rows.Row]:
        saved: list[rows.Row] = []
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            await db.execute_many(_UPSERT_ACCOUNTS, chunk)
            keys = [[value[i] for i in _ACCOUNT_KEY] for value in chunk]
            saved += await db.fetch_all(_ACCOUNTS_BY_KEY, keys)
        return saved

    async def _insert_pledges(self, db: SqliteSession, values: list[Values]) -> list[rows.Row]:
        # the write lock is held: every id above the last one is a row inserted here
        last = await db.fetch_one("SELECT COALESCE(MAX(id), 0) AS id FROM pledges")
        assert last is not None
        for start in range(0, len(values), CHUNK):
            await db.execute_many(_INSERT_PLEDGES, values[start : start + CHUNK])
        return await db.fetch_all("SELECT * FROM pledges WHERE id > ? ORDER BY id", last["id"])

    async def _write_recruit_codes(self, db: SqliteSession, params: list[tuple[str, int]]) -> None:
        await db.execute_many(SET_RECRUIT_CODE, params)

    async def _write_deliveries(
        self, db: SqliteSession, ids: list[int | None], values: list[Values]
    ) -> None:
        params = [(*value, pledge_id) for pledge_id, value in zip(ids, values, strict=True)]
        for start in range(0, len(params), CHUNK):
            await db.execute_many(_RECORD_DELIVERY, params[start : start + CHUNK])


_names: tuple[Any, tuple[str, ...]] = (None, ())


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """Rows as dicts: ``sqlite3.Row`` looks names up by a linear, case-folding scan."""
    global _names
    cached = _names  # one read: other connections' threads may swap the cache meanwhile
    description = cursor.description
    if cached[0] is not description:
        cached = (description, tuple(column[0] for column in description))
        _names = cached
    return dict(zip(cached[1], row, strict=True))


def _is_comment(text: str) -> bool:
    return all(part.strip().startswith("--") or not part.strip() for part in text.splitlines())


def _split_script(script: str) -> list[str]:
    """Split a migration script into complete statements."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement and not _is_comment(statement):
                found.append(statement)
            pending = ""
    if pending.strip() and not _is_comment(pending):
        raise ValueError("migration script ends with an incomplete statement")
    return found
