"""The Repository on SQLite (aiosqlite): one connection, one transaction per method.

A single connection in WAL mode serves the whole process; an ``asyncio.Lock`` makes each
method one ``BEGIN IMMEDIATE … COMMIT`` (``ROLLBACK`` on error), so concurrent callers in
the event loop never interleave inside a transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.errors import DomainError, StaleUpdate
from bot.domain.pledge import DeliveryState, Pledge
from bot.domain.refs import UserRef
from storage import migrations, rows, statements

log = logging.getLogger(__name__)

CHUNK = 5000  # ids per statement in bulk updates

_INSERT_CAMPAIGN = statements.insert(
    "campaigns", rows.CAMPAIGN_COLUMNS, "qmark", suffix="ON CONFLICT (ref) DO NOTHING RETURNING *"
)
_UPDATE_CAMPAIGN = statements.update_versioned("campaigns", rows.CAMPAIGN_COLUMNS, "qmark")
_INSERT_CARD = statements.insert("cards", rows.CARD_COLUMNS, "qmark", suffix="RETURNING *")
_UPSERT_ACCOUNT = statements.insert(
    "accounts",
    rows.ACCOUNT_COLUMNS,
    "qmark",
    suffix=(
        "ON CONFLICT (network, instance, remote_id) DO UPDATE SET "
        "owner_platform = excluded.owner_platform, owner_id = excluded.owner_id, "
        "owner_name = excluded.owner_name, owner_language = excluded.owner_language, "
        "handle = excluded.handle, followers = excluded.followers, "
        "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
        "token_expires_at = excluded.token_expires_at, token_scope = excluded.token_scope, "
        "revoked = FALSE RETURNING *"
    ),
)
_INSERT_PLEDGE = statements.insert(
    "pledges",
    rows.PLEDGE_COLUMNS,
    "qmark",
    suffix="ON CONFLICT (campaign_id, account_id) DO NOTHING RETURNING *",
)
_UPDATE_PLEDGE = statements.update_versioned("pledges", rows.PLEDGE_COLUMNS, "qmark")
# the bulk variants run through executemany, which returns no rows
_UPSERT_ACCOUNTS = _UPSERT_ACCOUNT.removesuffix(" RETURNING *")
_INSERT_PLEDGES = _INSERT_PLEDGE.removesuffix(" RETURNING *")
_ACCOUNTS_BY_KEY = """
SELECT a.* FROM json_each(?) AS k
JOIN accounts AS a ON a.network = json_extract(k.value, '$[0]')
 AND a.instance = json_extract(k.value, '$[1]') AND a.remote_id = json_extract(k.value, '$[2]')
ORDER BY k.key
"""
_RECORD_DELIVERY = statements.update_by_id("pledges", rows.DELIVERY_COLUMNS, "qmark")

_STATS = """
SELECT p.network AS network,
       COUNT(*) FILTER (WHERE p.status <> 'withdrawn') AS supporters,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status <> 'withdrawn'), 0) AS reach,
       COUNT(*) FILTER (WHERE p.status = 'posted') AS posted,
       COUNT(*) FILTER (WHERE p.status = 'failed') AS failed,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status = 'posted'), 0) AS posted_reach
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.campaign_id = ?
GROUP BY p.network
"""

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
)


def _json_list(values: Iterable[Any]) -> str:
    return json.dumps(list(values))


class SqliteRepository:
    """Everything the core stores, in one SQLite file (or in memory for tests)."""

    def __init__(self, connection: aiosqlite.Connection, cipher: TokenCipher) -> None:
        self._db = connection
        self._codec = rows.TextCodec(cipher)
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
    async def _tx(self, *, write: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            try:
                await self._control("BEGIN IMMEDIATE" if write else "BEGIN")
                yield self._db
                await self._control("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    await self._control("ROLLBACK")
                raise

    async def _control(self, statement: str) -> None:
        """Run BEGIN/COMMIT/ROLLBACK to the end even if the caller is cancelled meanwhile.

        The worker thread runs a queued statement anyway; waiting for it keeps the
        connection's transaction state known before the lock is released.
        """
        task = asyncio.ensure_future(self._db.execute(statement))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task
            raise

    @staticmethod
    async def _all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    @staticmethod
    async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
        async with db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    # migrations ---------------------------------------------------------------------

    async def migrate(self) -> int:
        return await migrations.migrate(self, "sqlite")

    async def schema_version(self) -> int:
        async with self._tx() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            row = await self._one(
                db, "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version"
            )
            return int(row["version"])

    async def apply_step(self, step: migrations.Step) -> bool:
        async with self._tx() as db:
            done = await self._one(
                db, "SELECT 1 FROM schema_version WHERE version = ?", (step.version,)
            )
            if done is not None:
                return False
            for statement in _split_script(step.sql):
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) "
                "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (step.version, step.name),
            )
            return True

    # campaigns ----------------------------------------------------------------------

    async def add_campaign(self, campaign: Campaign) -> Campaign:
        async with self._tx() as db:
            row = await self._one(
                db, _INSERT_CAMPAIGN, rows.campaign_values(campaign, self._codec)
            )
        if row is None:  # another campaign took this ref in the meantime
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def get_campaign(self, campaign_id: int) -> Campaign | None:
        async with self._tx(write=False) as db:
            row = await self._one(db, "SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        return None if row is None else rows.campaign_from_row(row, self._codec)

    async def find_campaign(self, ref: str) -> Campaign | None:
        async with self._tx(write=False) as db:
            row = await self._one(db, "SELECT * FROM campaigns WHERE ref = ?", (ref,))
        return None if row is None else rows.campaign_from_row(row, self._codec)

    async def update_campaign(self, campaign: Campaign) -> Campaign:
        if campaign.id is None:
            raise ValueError("update_campaign needs a stored campaign")
        params = (*rows.campaign_values(campaign, self._codec), campaign.id, campaign.version)
        async with self._tx() as db:
            row = await self._one(db, _UPDATE_CAMPAIGN, params)
        if row is None:
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def campaigns_of(self, organiser: UserRef) -> list[Campaign]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM campaigns WHERE organiser_platform = ? AND organiser_id = ? "
                "ORDER BY id",
                (organiser.platform, organiser.id),
            )
        return [rows.campaign_from_row(row, self._codec) for row in found]

    async def campaigns_in(self, statuses: Collection[CampaignStatus]) -> list[Campaign]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM campaigns WHERE status IN (SELECT value FROM json_each(?)) "
                "ORDER BY id",
                (_json_list(rows.status_values(list(statuses)) or []),),
            )
        return [rows.campaign_from_row(row, self._codec) for row in found]

    # cards --------------------------------------------------------------------------

    async def add_card(self, card: PostedCard) -> PostedCard:
        async with self._tx() as db:
            row = await self._one(db, _INSERT_CARD, rows.card_values(card, self._codec))
        return rows.card_from_row(row, self._codec)

    async def cards_of(self, campaign_id: int, kind: CardKind | None = None) -> list[PostedCard]:
        kind_value = kind.value if kind is not None else None
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM cards WHERE campaign_id = ? AND (? IS NULL OR kind = ?) "
                "ORDER BY id",
                (campaign_id, kind_value, kind_value),
            )
        return [rows.card_from_row(row, self._codec) for row in found]

    async def remove_card(self, card_id: int) -> None:
        async with self._tx() as db:
            await db.execute("DELETE FROM cards WHERE id = ?", (card_id,))

    # accounts -----------------------------------------------------------------------

    async def save_account(self, account: SocialAccount) -> SocialAccount:
        async with self._tx() as db:
            row = await self._one(db, _UPSERT_ACCOUNT, rows.account_values(account, self._codec))
        return rows.account_from_row(row, self._codec)

    async def save_accounts(self, accounts: Sequence[SocialAccount]) -> list[SocialAccount]:
        params = [rows.account_values(account, self._codec) for account in accounts]
        if not params:
            return []
        keys = [[a.network.value, a.instance, a.remote_id] for a in accounts]
        saved: list[Any] = []
        async with self._tx() as db:
            for start in range(0, len(params), CHUNK):
                await db.executemany(_UPSERT_ACCOUNTS, params[start : start + CHUNK])
                saved += await self._all(
                    db, _ACCOUNTS_BY_KEY, (_json_list(keys[start : start + CHUNK]),)
                )
        return [rows.account_from_row(row, self._codec) for row in saved]

    async def get_account(self, account_id: int) -> SocialAccount | None:
        async with self._tx(write=False) as db:
            row = await self._one(db, "SELECT * FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else rows.account_from_row(row, self._codec)

    async def get_accounts(self, account_ids: Collection[int]) -> dict[int, SocialAccount]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM accounts WHERE id IN (SELECT value FROM json_each(?))",
                (_json_list(account_ids),),
            )
        accounts = (rows.account_from_row(row, self._codec) for row in found)
        return {account.id: account for account in accounts if account.id is not None}

    async def account_stamps(self, account_ids: Collection[int]) -> dict[int, str]:
        # the tail of the token ciphertext: every encryption draws a fresh IV and MAC
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT id, substr(access_token, -16) || revoked AS stamp FROM accounts "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (_json_list(account_ids),),
            )
        return {row["id"]: str(row["stamp"]) for row in found}

    async def accounts_of(self, owner: UserRef) -> list[SocialAccount]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM accounts WHERE owner_platform = ? AND owner_id = ? ORDER BY id",
                (owner.platform, owner.id),
            )
        return [rows.account_from_row(row, self._codec) for row in found]

    async def update_tokens(self, account_id: int, tokens: TokenSet) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE accounts SET access_token = ?, refresh_token = ?, "
                "token_expires_at = ?, token_scope = ? WHERE id = ?",
                (*rows.token_values(tokens, self._codec), account_id),
            )

    async def mark_account_revoked(self, account_id: int) -> None:
        async with self._tx() as db:
            await db.execute("UPDATE accounts SET revoked = TRUE WHERE id = ?", (account_id,))

    async def erase_supporter(self, owner: UserRef) -> int:
        async with self._tx() as db:
            await db.execute(
                "DELETE FROM pledges WHERE account_id IN "
                "(SELECT id FROM accounts WHERE owner_platform = ? AND owner_id = ?) "
                "OR (supporter_platform = ? AND supporter_id = ?)",
                (owner.platform, owner.id, owner.platform, owner.id),
            )
            cursor = await db.execute(
                "DELETE FROM accounts WHERE owner_platform = ? AND owner_id = ?",
                (owner.platform, owner.id),
            )
            erased = cursor.rowcount
            await cursor.close()
        log.info("erased %s accounts of %s", erased, owner.key)
        return erased

    # pledges ------------------------------------------------------------------------

    async def add_pledge(self, pledge: Pledge) -> Pledge:
        async with self._tx() as db:
            row = await self._one(db, _INSERT_PLEDGE, rows.pledge_values(pledge, self._codec))
        if row is None:
            raise DomainError("pledge.already", title="")
        return rows.pledge_from_row(row, self._codec)

    async def add_pledges(self, pledges: Sequence[Pledge]) -> list[Pledge]:
        params = [rows.pledge_values(pledge, self._codec) for pledge in pledges]
        if not params:
            return []
        async with self._tx() as db:
            # the write lock is held: every id above the last one is a row inserted here
            last = await self._one(db, "SELECT COALESCE(MAX(id), 0) AS id FROM pledges")
            for start in range(0, len(params), CHUNK):
                await db.executemany(_INSERT_PLEDGES, params[start : start + CHUNK])
            added = await self._all(
                db, "SELECT * FROM pledges WHERE id > ? ORDER BY id", (last["id"],)
            )
        return [rows.pledge_from_row(row, self._codec) for row in added]

    async def get_pledge(self, pledge_id: int) -> Pledge | None:
        async with self._tx(write=False) as db:
            row = await self._one(db, "SELECT * FROM pledges WHERE id = ?", (pledge_id,))
        return None if row is None else rows.pledge_from_row(row, self._codec)

    async def find_pledge(self, campaign_id: int, account_id: int) -> Pledge | None:
        async with self._tx(write=False) as db:
            row = await self._one(
                db,
                "SELECT * FROM pledges WHERE campaign_id = ? AND account_id = ?",
                (campaign_id, account_id),
            )
        return None if row is None else rows.pledge_from_row(row, self._codec)

    async def update_pledge(self, pledge: Pledge) -> Pledge:
        if pledge.id is None:
            raise ValueError("update_pledge needs a stored pledge")
        params = (*rows.pledge_values(pledge, self._codec), pledge.id, pledge.version)
        async with self._tx() as db:
            row = await self._one(db, _UPDATE_PLEDGE, params)
        if row is None:
            raise StaleUpdate()
        return rows.pledge_from_row(row, self._codec)

    async def pledges_of_campaign(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> list[Pledge]:
        wanted = rows.status_values(None if statuses is None else list(statuses))
        async with self._tx(write=False) as db:
            if wanted is None:
                found = await self._all(
                    db, "SELECT * FROM pledges WHERE campaign_id = ? ORDER BY id", (campaign_id,)
                )
            else:
                found = await self._all(
                    db,
                    "SELECT * FROM pledges WHERE campaign_id = ? "
                    "AND status IN (SELECT value FROM json_each(?)) ORDER BY id",
                    (campaign_id, _json_list(wanted)),
                )
        return [rows.pledge_from_row(row, self._codec) for row in found]

    async def pledges_of_supporter(self, supporter: UserRef) -> list[Pledge]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db,
                "SELECT * FROM pledges WHERE supporter_platform = ? AND supporter_id = ? "
                "ORDER BY id",
                (supporter.platform, supporter.id),
            )
        return [rows.pledge_from_row(row, self._codec) for row in found]

    async def campaign_stats(self, campaign_id: int) -> CampaignStats:
        async with self._tx(write=False) as db:
            found = await self._all(db, _STATS, (campaign_id,))
        return rows.stats_from_rows(found)

    async def set_delivery(
        self,
        pledge_ids: Sequence[int],
        state: DeliveryState,
        *,
        expected: DeliveryState | None = None,
    ) -> list[int]:
        moved: set[int] = set()
        expected_value = expected.value if expected is not None else None
        async with self._tx() as db:
            for start in range(0, len(pledge_ids), CHUNK):
                chunk = pledge_ids[start : start + CHUNK]
                found = await self._all(
                    db,
                    "UPDATE pledges SET delivery = ?, version = version + 1 "
                    "WHERE id IN (SELECT value FROM json_each(?)) "
                    "AND (? IS NULL OR delivery = ?) RETURNING id",
                    (state.value, _json_list(chunk), expected_value, expected_value),
                )
                moved.update(row["id"] for row in found)
        return [pledge_id for pledge_id in pledge_ids if pledge_id in moved]

    async def record_deliveries(self, pledges: Sequence[Pledge]) -> None:
        params = [(*rows.delivery_values(p, self._codec), p.id) for p in pledges]
        async with self._tx() as db:
            for start in range(0, len(params), CHUNK):
                await db.executemany(_RECORD_DELIVERY, params[start : start + CHUNK])

    # once-only events, nonces -------------------------------------------------------

    async def claim_event(self, campaign_id: int, name: str, at: datetime) -> bool:
        async with self._tx() as db:
            row = await self._one(
                db,
                "INSERT INTO campaign_events (campaign_id, name, claimed_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING RETURNING name",
                (campaign_id, name, self._codec.time_in(at)),
            )
        return row is not None

    async def events_of(self, campaign_id: int) -> set[str]:
        async with self._tx(write=False) as db:
            found = await self._all(
                db, "SELECT name FROM campaign_events WHERE campaign_id = ?", (campaign_id,)
            )
        return {row["name"] for row in found}

    async def consume_nonce(self, nonce: str, expires_at: datetime) -> bool:
        async with self._tx() as db:
            row = await self._one(
                db,
                "INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING RETURNING nonce",
                (nonce, self._codec.time_in(expires_at)),
            )
        return row is not None

    async def nonce_used(self, nonce: str) -> bool:
        async with self._tx() as db:
            row = await self._one(db, "SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,))
        return row is not None

    # dialogs ------------------------------------------------------------------------

    async def save_dialog(self, user_key: str, state: dict[str, Any]) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO dialogs (user_key, state) VALUES (?, ?) "
                "ON CONFLICT (user_key) DO UPDATE SET state = excluded.state",
                (user_key, self._codec.json_in(state)),
            )

    async def load_dialog(self, user_key: str) -> dict[str, Any] | None:
        async with self._tx(write=False) as db:
            row = await self._one(db, "SELECT state FROM dialogs WHERE user_key = ?", (user_key,))
        return None if row is None else dict(self._codec.json_out(row["state"]))

    async def delete_dialog(self, user_key: str) -> None:
        async with self._tx() as db:
            await db.execute("DELETE FROM dialogs WHERE user_key = ?", (user_key,))

    # OAuth states -------------------------------------------------------------------

    async def save_oauth_state(
        self, state: str, data: dict[str, Any], expires_at: datetime
    ) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO oauth_states (state, data, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (state) DO UPDATE SET data = excluded.data, "
                "expires_at = excluded.expires_at",
                (state, self._codec.seal_json(data), self._codec.time_in(expires_at)),
            )

    async def take_oauth_state(self, state: str, now: datetime) -> dict[str, Any] | None:
        moment = self._codec.time_in(now)
        async with self._tx() as db:
            row = await self._one(
                db,
                "DELETE FROM oauth_states WHERE state = ? RETURNING data, expires_at",
                (state,),
            )
            await db.execute("DELETE FROM oauth_states WHERE expires_at <= ?", (moment,))
        if row is None or row["expires_at"] <= moment:
            return None
        return dict(self._codec.open_json(row["data"]))

    # Mastodon apps ------------------------------------------------------------------

    async def get_mastodon_app(self, instance: str) -> tuple[str, str] | None:
        async with self._tx(write=False) as db:
            row = await self._one(
                db,
                "SELECT client_id, client_secret FROM mastodon_apps WHERE instance = ?",
                (instance,),
            )
        if row is None:
            return None
        return row["client_id"], self._codec.cipher.decrypt(row["client_secret"])

    async def save_mastodon_app(self, instance: str, client_id: str, client_secret: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO mastodon_apps (instance, client_id, client_secret) VALUES (?, ?, ?) "
                "ON CONFLICT (instance) DO UPDATE SET client_id = excluded.client_id, "
                "client_secret = excluded.client_secret",
                (instance, client_id, self._codec.cipher.encrypt(client_secret)),
            )


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


def _split_script(script: str) -> list[str]:
    """Split a migration script into complete statements (``executescript`` would commit)."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement and not all(
                part.strip().startswith("--") or not part.strip()
                for part in statement.splitlines()
            ):
                found.append(statement)
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        raise ValueError("migration script ends with an incomplete statement")
    return found
