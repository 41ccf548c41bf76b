"""The blast's batches in the database: split at the launch, claimed under a lease.

PostgreSQL (``PostgresBlastQueue``) is what lets several processes share a launch: the
claim is one ``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)``, so two
workers never take the same batch and none waits on another's lock; leases are measured
by the server's clock (processes on several machines agree on it); the split commits in
parts, the first one small, and sends ``NOTIFY chorus_blast`` at each commit, which wakes
the workers that ``LISTEN`` on a connection of their own (they also poll, should a
notification be lost with a dropped connection): posting starts while the rest of the
batches are written. Each part holds the campaign's row lock and first reads the batches
stored since its previous part, so two splits of one campaign never batch a pledge
twice. This uses PostgreSQL's primitives directly rather than a job library: the queue
is one table and four statements, and the pledge rows stay the guarantee that each
pledge is posted at most once.

SQLite (``SqliteBlastQueue``) serves one process: the same table and claims in its one
write transaction. Without a ``channel`` it is not ``shared``: a launch posts in process
as it always has (an in-memory database, or ``BLAST_THREAD=false``). With one (the
database file's path: the main loop's queue and the blast thread's, each on its own
connection) the launch splits into batches and each commit of the split wakes the queues
of the same file waiting in this process, whatever their thread (``call_soon_threadsafe``
to their loop), as ``NOTIFY`` does on PostgreSQL; they poll as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.domain.batches import BlastBatch
from storage import rows
from storage.repository import SqlRepository

if TYPE_CHECKING:  # the drivers load with their back end only (the unit tier has none)
    from storage.postgres import PostgresRepository
    from storage.sqlite import SqliteRepository

log = logging.getLogger(__name__)

CHANNEL = "chorus_blast"

_COLUMNS = "id, campaign_id, number, pledge_ids, claims"
_INSERT = (
    "INSERT INTO blast_batches (campaign_id, number, pledge_ids) VALUES ($1, $2, $3) "
    "ON CONFLICT (campaign_id, number) DO NOTHING"
)
_UNFINISHED = "SELECT COUNT(*) AS n FROM blast_batches WHERE campaign_id = $1 AND state <> 'done'"
_RELEASE_ALL = (
    "UPDATE blast_batches SET state = 'ready', owner = NULL, lease_until = NULL "
    "WHERE state = 'claimed' RETURNING id"
)
_BATCHED_SINCE = (
    "SELECT number, pledge_ids FROM blast_batches WHERE campaign_id = $1 AND number >= $2"
)


def _batch(row: rows.Row) -> BlastBatch:
    ids = json.loads(row["pledge_ids"])
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ValueError(f"blast batch {row['id']} holds no list of pledge ids")
    return BlastBatch(
        id=row["id"],
        campaign_id=row["campaign_id"],
        number=row["number"],
        pledge_ids=tuple(ids),
        claims=row["claims"],
    )


class _SqlBlastQueue:
    """The statements both back ends share; ``now`` and ``later`` are the dialect's
    expressions for the current time and the time ``$2`` seconds from now."""

    shared = False
    now = ""
    later = ""
    first_part = 2  # batches in the split's first commit: the workers start on them at once
    part = 20  # batches in each later commit of the split

    def __init__(self, repo: SqlRepository[Any]) -> None:
        self._repo = repo
        self._claim = (
            f"UPDATE blast_batches SET state = 'claimed', owner = $1, "
            f"lease_until = {self.later}, claims = claims + 1 "
            "WHERE id = (SELECT id FROM blast_batches WHERE state = 'ready' "
            f"OR (state = 'claimed' AND lease_until < {self.now}) "
            f"ORDER BY id {self._lock_clause} LIMIT 1) "
            f"RETURNING {_COLUMNS}"
        )
        self._renew = (
            f"UPDATE blast_batches SET lease_until = {self.later} "
            "WHERE id = $3 AND owner = $1 AND state = 'claimed' RETURNING id"
        )
        self._release = (
            "UPDATE blast_batches SET state = 'ready', owner = NULL, lease_until = NULL "
            "WHERE id = $2 AND owner = $1 AND state = 'claimed' RETURNING id"
        )
        self._finish = (
            "UPDATE blast_batches SET state = 'done', lease_until = NULL "
            "WHERE id = $2 AND owner = $1 AND state = 'claimed' RETURNING id"
        )

    _lock_clause = ""

    async def split(self, campaign_id: int, pledge_ids: Sequence[int], size: int) -> int:
        if size < 1:
            raise ValueError("a blast batch holds at least one pledge")
        ids = list(dict.fromkeys(int(i) for i in pledge_ids))
        batched: set[int] = set()  # the pledges of batches numbered below ``number``
        number = 0
        made = 0
        start = 0
        part = self.first_part
        while True:
            async with self._repo.transaction() as db:
                await self._lock_split(db, campaign_id)
                # batches another split stored since (or before): they stand
                for row in await db.fetch_all(_BATCHED_SINCE, campaign_id, number):
                    batched.update(json.loads(row["pledge_ids"]))
                    number = max(number, int(row["number"]) + 1)
                written = 0
                while written < part and start < len(ids):
                    batch: list[int] = []
                    while len(batch) < size and start < len(ids):
                        if ids[start] not in batched:
                            batch.append(ids[start])
                        start += 1
                    if batch:
                        await db.execute(_INSERT, campaign_id, number, json.dumps(batch))
                        number += 1
                        written += 1
                if written:
                    await self._notify(db, campaign_id)
            if written:
                self._committed()
            made += written
            if start >= len(ids):
                return made
            part = self.part

    async def _lock_split(self, db: Any, campaign_id: int) -> None:
        """Keep two splits of one campaign apart (SQLite: its write lock does)."""

    async def _notify(self, db: Any, campaign_id: int) -> None:
        """Wake the workers when the transaction commits (PostgreSQL: ``NOTIFY``)."""

    def _committed(self) -> None:
        """A part of the split is committed (SQLite: wake this process's workers)."""

    async def claim(self, owner: str, lease_seconds: float) -> BlastBatch | None:
        async with self._repo.transaction() as db:
            row = await db.fetch_one(self._claim, owner, float(lease_seconds))
        return None if row is None else _batch(row)

    async def renew(self, batch_id: int, owner: str, lease_seconds: float) -> bool:
        async with self._repo.transaction() as db:
            row = await db.fetch_one(self._renew, owner, float(lease_seconds), batch_id)
        return row is not None

    async def finish(self, batch_id: int, owner: str) -> bool:
        async with self._repo.transaction() as db:
            row = await db.fetch_one(self._finish, owner, batch_id)
        return row is not None

    async def release(self, batch_id: int, owner: str) -> bool:
        async with self._repo.transaction() as db:
            row = await db.fetch_one(self._release, owner, batch_id)
        return row is not None

    async def unfinished(self, campaign_id: int) -> int:
        async with self._repo.transaction(write=False) as db:
            row = await db.fetch_one(_UNFINISHED, campaign_id)
        return int(row["n"]) if row is not None else 0

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def close(self) -> None:
        return None


_waiting: dict[str, set[SqliteBlastQueue]] = {}  # by channel: the queues that wait
_waiting_lock = threading.Lock()  # they wait in several threads' loops


class SqliteBlastQueue(_SqlBlastQueue):
    """One process: claims in SQLite's single write transaction; with a ``channel``
    (the database file), shared with the blast thread of the same process."""

    now = "julianday('now')"
    later = "julianday('now') + $2 / 86400.0"

    def __init__(self, repo: SqliteRepository, *, channel: str | None = None) -> None:
        super().__init__(repo)
        self._channel = None if channel is None else os.path.abspath(channel)
        self.shared = self._channel is not None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _committed(self) -> None:
        if self._channel is None:
            return
        with _waiting_lock:
            waiting = list(_waiting.get(self._channel, ()))
        for queue in waiting:
            queue._notified()

    def _notified(self) -> None:
        """From any thread: wake this queue's ``wait`` in its own loop."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
            loop.call_soon_threadsafe(wake.set)

    async def wait(self, seconds: float) -> None:
        if self._channel is None:
            await asyncio.sleep(seconds)
            return
        if self._wake is None:
            self._wake = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            with _waiting_lock:
                _waiting.setdefault(self._channel, set()).add(self)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def release_orphans(self) -> int:
        """Give back every claimed batch; how many. One process uses an SQLite file, so a
        batch claimed when it starts was claimed by one that died (``kill -9``): posted
        again at once (its pledges reconciled), not after its lease runs out."""
        async with self._repo.transaction() as db:
            rows = await db.fetch_all(_RELEASE_ALL)
        return len(rows)

    async def close(self) -> None:
        if self._channel is None:
            return
        with _waiting_lock:
            waiting = _waiting.get(self._channel)
            if waiting is not None:
                waiting.discard(self)
                if not waiting:
                    del _waiting[self._channel]


class PostgresBlastQueue(_SqlBlastQueue):
    """Every process of a deployment: SKIP LOCKED claims, LISTEN/NOTIFY wake-ups."""

    shared = True
    now = "now()"
    later = "now() + $2::float8 * interval '1 second'"
    _lock_clause = "FOR UPDATE SKIP LOCKED"

    def __init__(self, repo: PostgresRepository) -> None:
        super().__init__(repo)
        self._pool = repo.pool
        self._wake = asyncio.Event()
        self._listener: Any = None  # the pooled connection that LISTENs
        self._listen_lock = asyncio.Lock()

    async def _lock_split(self, db: Any, campaign_id: int) -> None:
        await db.execute("SELECT id FROM campaigns WHERE id = $1 FOR UPDATE", campaign_id)

    async def _notify(self, db: Any, campaign_id: int) -> None:
        await db.execute("SELECT pg_notify($1, $2)", CHANNEL, str(campaign_id))

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def listen(self) -> None:
        """LISTEN on a connection of its own (again if it was lost); idempotent."""
        async with self._listen_lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            self._listener = None
            connection = await self._pool.acquire()
            try:
                await connection.add_listener(CHANNEL, self._notified)
            except BaseException:
                await self._pool.release(connection)
                raise
            self._listener = connection

    async def wait(self, seconds: float) -> None:
        try:
            await self.listen()
        except Exception as exc:  # the database is away: polling still finds the work
            log.warning("cannot LISTEN for blast batches: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def close(self) -> None:
        async with self._listen_lock:
            connection, self._listener = self._listener, None
            if connection is None:
                return
            with contextlib.suppress(Exception):
                await connection.remove_listener(CHANNEL, self._notified)
            with contextlib.suppress(Exception):
                await self._pool.release(connection)


def open_blast_queue(
    repo: object, *, channel: str | None = None
) -> SqliteBlastQueue | PostgresBlastQueue:
    """The queue that goes with ``repo``'s back end; on SQLite, ``channel`` (the database
    file) makes it shared with the blast thread of this process."""
    dialect = getattr(repo, "dialect", None)
    if dialect == "postgres":
        return PostgresBlastQueue(repo)  # type: ignore[arg-type]
    if dialect == "sqlite":
        return SqliteBlastQueue(repo, channel=channel)  # type: ignore[arg-type]
    raise TypeError(f"no blast queue for {type(repo).__name__}")
