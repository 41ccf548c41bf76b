"""The ``Leadership`` port on PostgreSQL: a session-level advisory lock on its own connection.

The lock (``pg_try_advisory_lock``, keyed by the schema, so deployments sharing a server
each have one leader) is held by a dedicated connection, never one from the pool, so it
lives exactly as long as that session: when the leader's process dies, the server ends
the session and the lock is free for the next process's attempt. ``held`` asks the
server, within a deadline, whether this session still holds it; a dead or silent link
counts as lost, and the caller stops its timers at once. The server itself notices a
vanished machine through TCP keepalives and a user timeout set on that session, longer
than a leader takes to notice it lost its link (a check every ``poll_seconds``, each
bounded by ``deadline``): a cut-off leader has stopped before anyone else can take over.

No lease row and no fencing token: every leader-only write is already guarded in the
database (each event claimed once in ``events``, the launch by the campaign's status, each
pledge by its delivery state), so a stale leader's late write is refused there.

The same connection carries the campaign news: ``announce`` sends ``NOTIFY`` on a channel
every process ``LISTEN``s to; only the leader acts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Callable
from typing import Any

import asyncpg

from storage import rows

log = logging.getLogger(__name__)

LEADER_LOCK = 0x4C454144  # "LEAD": the advisory lock's first key; the second is the schema's
CHANNEL = "chorus_campaign_changed"
PROBES = 3  # unanswered keepalive probes, 2 s apart, before the server drops the session

# a link that failed: asyncpg may also find a killed session mid-message (its
# InternalClientError "another operation is in progress"), which is as lost as the rest
_LINK_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

_KEY = "hashtext(coalesce($2::text, current_schema(), ''))"
_TRY = f"SELECT pg_try_advisory_lock($1, {_KEY})"
_UNLOCK = f"SELECT pg_advisory_unlock($1, {_KEY})"
_HELD = f"""
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
      AND classid = $1::bigint::oid AND objid = {_KEY}::oid
      AND objsubid = 2
)
"""


class PostgresLeadership:
    """One process's claim on the leadership of the deployment at ``dsn`` (and ``schema``)."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        deadline: float = 5.0,
        poll_seconds: float = 1.0,
    ) -> None:
        if schema is not None:
            rows.identifier(schema)
        self._dsn = dsn
        self._schema = schema
        self._deadline = deadline
        # the server gives a silent session up only after the leader would have noticed
        # (one check every poll_seconds, each within the deadline): no overlap
        idle = math.ceil(poll_seconds + deadline) + 1
        self._keepalives = {
            "tcp_keepalives_idle": str(idle),
            "tcp_keepalives_interval": "2",
            "tcp_keepalives_count": str(PROBES),
            "tcp_user_timeout": str((idle + 2 * PROBES) * 1000),
        }
        self._connection: asyncpg.Connection | None = None
        self._leading = False
        self._on_change: Callable[[int], None] | None = None
        self._use = asyncio.Lock()  # one statement at a time on the one connection

    def listen(self, on_change: Callable[[int], None]) -> None:
        self._on_change = on_change

    async def acquire(self) -> bool:
        async with self._use:
            connection = await self._connect()
            if self._leading:  # held already: a second lock would need a second unlock
                return True
            try:
                got = await connection.fetchval(
                    _TRY, LEADER_LOCK, self._schema, timeout=self._deadline
                )
            except BaseException:
                await self._drop()
                raise
            self._leading = bool(got)
            return self._leading

    async def held(self) -> bool:
        async with self._use:
            connection = self._connection
            if not self._leading or connection is None or connection.is_closed():
                return False
            try:
                return bool(
                    await connection.fetchval(
                        _HELD, LEADER_LOCK, self._schema, timeout=self._deadline
                    )
                )
            except _LINK_ERRORS:
                log.warning("the leadership's connection failed", exc_info=True)
                await self._drop()
                return False

    async def release(self) -> None:
        """Unlock when the session is healthy; otherwise drop it (the server frees the lock)."""
        async with self._use:
            connection, leading = self._connection, self._leading
            self._leading = False
            if connection is None or not leading:
                return
            try:
                await connection.fetchval(
                    _UNLOCK, LEADER_LOCK, self._schema, timeout=self._deadline
                )
            except _LINK_ERRORS:
                await self._drop()

    async def announce(self, campaign_id: int) -> None:
        async with self._use:
            connection = await self._connect()
            await connection.execute(
                "SELECT pg_notify($1, $2)", CHANNEL, str(campaign_id), timeout=self._deadline
            )

    async def close(self) -> None:
        async with self._use:
            self._leading = False
            connection, self._connection = self._connection, None
            if connection is not None and not connection.is_closed():
                try:
                    await asyncio.wait_for(connection.close(), self._deadline)
                except _LINK_ERRORS:
                    connection.terminate()

    # ---------------------------------------------------------------------------------

    async def _connect(self) -> asyncpg.Connection:
        connection = self._connection
        if connection is not None and not connection.is_closed():
            return connection
        self._leading = False  # a new session holds nothing
        settings = {**self._keepalives, "application_name": f"chorus {os.getpid()}"}
        if self._schema is not None:
            settings["search_path"] = self._schema
        connection = await asyncpg.connect(
            self._dsn, timeout=self._deadline, server_settings=settings
        )
        await connection.add_listener(CHANNEL, self._heard)
        self._connection = connection
        return connection

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self._leading = False
        if connection is not None:
            connection.terminate()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            campaign_id = int(payload)
            if self._on_change is not None:
                self._on_change(campaign_id)
