"""The Repository on PostgreSQL (asyncpg): a pool, one transaction per method.

Several bot processes may share one database: optimistic locking on ``version`` and
insert-unique claims keep them from stepping on each other, and an advisory lock keeps two
processes from migrating at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.errors import DomainError, StaleUpdate
from bot.domain.pledge import DeliveryState, Pledge
from bot.domain.refs import UserRef
from storage import migrations, rows, statements

log = logging.getLogger(__name__)

CHUNK = 5000  # pledges per statement in bulk updates
MIGRATION_LOCK = 0x43484F52  # "CHOR": advisory lock id held while migrating

_INSERT_CAMPAIGN = statements.insert(
    "campaigns",
    rows.CAMPAIGN_COLUMNS,
    "numeric",
    suffix="ON CONFLICT (ref) DO NOTHING RETURNING *",
)
_UPDATE_CAMPAIGN = statements.update_versioned("campaigns", rows.CAMPAIGN_COLUMNS, "numeric")
_INSERT_CARD = statements.insert("cards", rows.CARD_COLUMNS, "numeric", suffix="RETURNING *")
_UPSERT_ACCOUNT = statements.insert(
    "accounts",
    rows.ACCOUNT_COLUMNS,
    "numeric",
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
    "numeric",
    suffix="ON CONFLICT (campaign_id, account_id) DO NOTHING RETURNING *",
)
_UPDATE_PLEDGE = statements.update_versioned("pledges", rows.PLEDGE_COLUMNS, "numeric")

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

_STATS = """
SELECT p.network AS network,
       COUNT(*) FILTER (WHERE p.status <> 'withdrawn') AS supporters,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status <> 'withdrawn'), 0) AS reach,
       COUNT(*) FILTER (WHERE p.status = 'posted') AS posted,
       COUNT(*) FILTER (WHERE p.status = 'failed') AS failed,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status = 'posted'), 0) AS posted_reach
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.campaign_id = $1
GROUP BY p.network
"""


async def _init_connection(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class PostgresRepository:
    """Everything the core stores, in PostgreSQL (optionally inside one schema)."""

    def __init__(self, pool: asyncpg.Pool, cipher: TokenCipher) -> None:
        self._pool = pool
        self._codec = rows.NativeCodec(cipher)

    @classmethod
    async def connect(
        cls, dsn: str, cipher: TokenCipher, *, schema: str | None = None
    ) -> PostgresRepository:
        """Open a pool on ``dsn``; with ``schema``, create it if needed and work inside it."""
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
            dsn, min_size=1, max_size=10, server_settings=settings, init=_init_connection
        )
        return cls(pool, cipher)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield connection

    # migrations ---------------------------------------------------------------------

    async def migrate(self) -> int:
        return await migrations.migrate(self, "postgres")

    async def schema_version(self) -> int:
        async with self._tx() as db:
            await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            return int(await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    async def apply_step(self, step: migrations.Step) -> bool:
        async with self._tx() as db:
            await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if await db.fetchval("SELECT 1 FROM schema_version WHERE version = $1", step.version):
                return False
            await db.execute(step.sql)
            await db.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                step.version,
                step.name,
            )
            return True

    # campaigns ----------------------------------------------------------------------

    async def add_campaign(self, campaign: Campaign) -> Campaign:
        async with self._tx() as db:
            row = await db.fetchrow(_INSERT_CAMPAIGN, *rows.campaign_values(campaign, self._codec))
        if row is None:  # another campaign took this ref in the meantime
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def get_campaign(self, campaign_id: int) -> Campaign | None:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
        return None if row is None else rows.campaign_from_row(row, self._codec)

    async def find_campaign(self, ref: str) -> Campaign | None:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT * FROM campaigns WHERE ref = $1", ref)
        return None if row is None else rows.campaign_from_row(row, self._codec)

    async def update_campaign(self, campaign: Campaign) -> Campaign:
        if campaign.id is None:
            raise ValueError("update_campaign needs a stored campaign")
        params = (*rows.campaign_values(campaign, self._codec), campaign.id, campaign.version)
        async with self._tx() as db:
            row = await db.fetchrow(_UPDATE_CAMPAIGN, *params)
        if row is None:
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def campaigns_of(self, organiser: UserRef) -> list[Campaign]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM campaigns WHERE organiser_platform = $1 AND organiser_id = $2 "
                "ORDER BY id",
                organiser.platform,
                organiser.id,
            )
        return [rows.campaign_from_row(row, self._codec) for row in found]

    async def campaigns_in(self, statuses: Collection[CampaignStatus]) -> list[Campaign]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM campaigns WHERE status = ANY($1::text[]) ORDER BY id",
                rows.status_values(list(statuses)),
            )
        return [rows.campaign_from_row(row, self._codec) for row in found]

    # cards --------------------------------------------------------------------------

    async def add_card(self, card: PostedCard) -> PostedCard:
        async with self._tx() as db:
            row = await db.fetchrow(_INSERT_CARD, *rows.card_values(card, self._codec))
        return rows.card_from_row(row, self._codec)

    async def cards_of(self, campaign_id: int, kind: CardKind | None = None) -> list[PostedCard]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM cards WHERE campaign_id = $1 AND ($2::text IS NULL OR kind = $2) "
                "ORDER BY id",
                campaign_id,
                kind.value if kind is not None else None,
            )
        return [rows.card_from_row(row, self._codec) for row in found]

    async def remove_card(self, card_id: int) -> None:
        async with self._tx() as db:
            await db.execute("DELETE FROM cards WHERE id = $1", card_id)

    # accounts -----------------------------------------------------------------------

    async def save_account(self, account: SocialAccount) -> SocialAccount:
        async with self._tx() as db:
            row = await db.fetchrow(_UPSERT_ACCOUNT, *rows.account_values(account, self._codec))
        return rows.account_from_row(row, self._codec)

    async def save_accounts(self, accounts: Sequence[SocialAccount]) -> list[SocialAccount]:
        params = [rows.account_values(account, self._codec) for account in accounts]
        if not params:
            return []
        async with self._tx() as db:
            saved = await db.fetchmany(_UPSERT_ACCOUNT, params)  # pipelined, a row each
        return [rows.account_from_row(row, self._codec) for row in saved]

    async def get_account(self, account_id: int) -> SocialAccount | None:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT * FROM accounts WHERE id = $1", account_id)
        return None if row is None else rows.account_from_row(row, self._codec)

    async def get_accounts(self, account_ids: Collection[int]) -> dict[int, SocialAccount]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM accounts WHERE id = ANY($1::bigint[])", list(account_ids)
            )
        accounts = (rows.account_from_row(row, self._codec) for row in found)
        return {account.id: account for account in accounts if account.id is not None}

    async def account_stamps(self, account_ids: Collection[int]) -> dict[int, str]:
        # the tail of the token ciphertext: every encryption draws a fresh IV and MAC
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT id, right(access_token, 16) || revoked::text AS stamp FROM accounts "
                "WHERE id = ANY($1::bigint[])",
                list(account_ids),
            )
        return {row["id"]: str(row["stamp"]) for row in found}

    async def accounts_of(self, owner: UserRef) -> list[SocialAccount]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM accounts WHERE owner_platform = $1 AND owner_id = $2 ORDER BY id",
                owner.platform,
                owner.id,
            )
        return [rows.account_from_row(row, self._codec) for row in found]

    async def update_tokens(self, account_id: int, tokens: TokenSet) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE accounts SET access_token = $1, refresh_token = $2, "
                "token_expires_at = $3, token_scope = $4 WHERE id = $5",
                *rows.token_values(tokens, self._codec),
                account_id,
            )

    async def mark_account_revoked(self, account_id: int) -> None:
        async with self._tx() as db:
            await db.execute("UPDATE accounts SET revoked = TRUE WHERE id = $1", account_id)

    async def erase_supporter(self, owner: UserRef) -> int:
        async with self._tx() as db:
            await db.execute(
                "DELETE FROM pledges WHERE account_id IN "
                "(SELECT id FROM accounts WHERE owner_platform = $1 AND owner_id = $2) "
                "OR (supporter_platform = $1 AND supporter_id = $2)",
                owner.platform,
                owner.id,
            )
            erased = await db.fetch(
                "DELETE FROM accounts WHERE owner_platform = $1 AND owner_id = $2 RETURNING id",
                owner.platform,
                owner.id,
            )
        log.info("erased %s accounts of %s", len(erased), owner.key)
        return len(erased)

    # pledges ------------------------------------------------------------------------

    async def add_pledge(self, pledge: Pledge) -> Pledge:
        async with self._tx() as db:
            row = await db.fetchrow(_INSERT_PLEDGE, *rows.pledge_values(pledge, self._codec))
        if row is None:
            raise DomainError("pledge.already", title="")
        return rows.pledge_from_row(row, self._codec)

    async def add_pledges(self, pledges: Sequence[Pledge]) -> list[Pledge]:
        params = [rows.pledge_values(pledge, self._codec) for pledge in pledges]
        if not params:
            return []
        async with self._tx() as db:
            added = await db.fetchmany(_INSERT_PLEDGE, params)  # no row for a skipped one
        return [rows.pledge_from_row(row, self._codec) for row in added]

    async def get_pledge(self, pledge_id: int) -> Pledge | None:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT * FROM pledges WHERE id = $1", pledge_id)
        return None if row is None else rows.pledge_from_row(row, self._codec)

    async def find_pledge(self, campaign_id: int, account_id: int) -> Pledge | None:
        async with self._tx() as db:
            row = await db.fetchrow(
                "SELECT * FROM pledges WHERE campaign_id = $1 AND account_id = $2",
                campaign_id,
                account_id,
            )
        return None if row is None else rows.pledge_from_row(row, self._codec)

    async def update_pledge(self, pledge: Pledge) -> Pledge:
        if pledge.id is None:
            raise ValueError("update_pledge needs a stored pledge")
        params = (*rows.pledge_values(pledge, self._codec), pledge.id, pledge.version)
        async with self._tx() as db:
            row = await db.fetchrow(_UPDATE_PLEDGE, *params)
        if row is None:
            raise StaleUpdate()
        return rows.pledge_from_row(row, self._codec)

    async def pledges_of_campaign(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> list[Pledge]:
        wanted = rows.status_values(None if statuses is None else list(statuses))
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM pledges WHERE campaign_id = $1 "
                "AND ($2::text[] IS NULL OR status = ANY($2::text[])) ORDER BY id",
                campaign_id,
                wanted,
            )
        return [rows.pledge_from_row(row, self._codec) for row in found]

    async def pledges_of_supporter(self, supporter: UserRef) -> list[Pledge]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT * FROM pledges WHERE supporter_platform = $1 AND supporter_id = $2 "
                "ORDER BY id",
                supporter.platform,
                supporter.id,
            )
        return [rows.pledge_from_row(row, self._codec) for row in found]

    async def campaign_stats(self, campaign_id: int) -> CampaignStats:
        async with self._tx() as db:
            found = await db.fetch(_STATS, campaign_id)
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
                found = await db.fetch(
                    "UPDATE pledges SET delivery = $1, version = version + 1 "
                    "WHERE id = ANY($2::bigint[]) AND ($3::text IS NULL OR delivery = $3) "
                    "RETURNING id",
                    state.value,
                    list(pledge_ids[start : start + CHUNK]),
                    expected_value,
                )
                moved.update(row["id"] for row in found)
        return [pledge_id for pledge_id in pledge_ids if pledge_id in moved]

    async def record_deliveries(self, pledges: Sequence[Pledge]) -> None:
        async with self._tx() as db:
            for start in range(0, len(pledges), CHUNK):
                chunk = pledges[start : start + CHUNK]
                values = [rows.delivery_values(p, self._codec) for p in chunk]
                columns = [list(column) for column in zip(*values, strict=True)]
                await db.execute(_RECORD_DELIVERIES, [p.id for p in chunk], *columns)

    # once-only events, nonces -------------------------------------------------------

    async def claim_event(self, campaign_id: int, name: str, at: datetime) -> bool:
        async with self._tx() as db:
            row = await db.fetchrow(
                "INSERT INTO campaign_events (campaign_id, name, claimed_at) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name",
                campaign_id,
                name,
                self._codec.time_in(at),
            )
        return row is not None

    async def events_of(self, campaign_id: int) -> set[str]:
        async with self._tx() as db:
            found = await db.fetch(
                "SELECT name FROM campaign_events WHERE campaign_id = $1", campaign_id
            )
        return {row["name"] for row in found}

    async def consume_nonce(self, nonce: str, expires_at: datetime) -> bool:
        async with self._tx() as db:
            row = await db.fetchrow(
                "INSERT INTO used_nonces (nonce, expires_at) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING nonce",
                nonce,
                self._codec.time_in(expires_at),
            )
        return row is not None

    async def nonce_used(self, nonce: str) -> bool:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT 1 FROM used_nonces WHERE nonce = $1", nonce)
        return row is not None

    # dialogs ------------------------------------------------------------------------

    async def save_dialog(self, user_key: str, state: dict[str, Any]) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO dialogs (user_key, state) VALUES ($1, $2) "
                "ON CONFLICT (user_key) DO UPDATE SET state = excluded.state",
                user_key,
                self._codec.json_in(state),
            )

    async def load_dialog(self, user_key: str) -> dict[str, Any] | None:
        async with self._tx() as db:
            row = await db.fetchrow("SELECT state FROM dialogs WHERE user_key = $1", user_key)
        return None if row is None else dict(self._codec.json_out(row["state"]))

    async def delete_dialog(self, user_key: str) -> None:
        async with self._tx() as db:
            await db.execute("DELETE FROM dialogs WHERE user_key = $1", user_key)

    # OAuth states -------------------------------------------------------------------

    async def save_oauth_state(
        self, state: str, data: dict[str, Any], expires_at: datetime
    ) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO oauth_states (state, data, expires_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (state) DO UPDATE SET data = excluded.data, "
                "expires_at = excluded.expires_at",
                state,
                self._codec.seal_json(data),
                self._codec.time_in(expires_at),
            )

    async def take_oauth_state(self, state: str, now: datetime) -> dict[str, Any] | None:
        moment = self._codec.time_in(now)
        async with self._tx() as db:
            row = await db.fetchrow(
                "DELETE FROM oauth_states WHERE state = $1 RETURNING data, expires_at", state
            )
            await db.execute("DELETE FROM oauth_states WHERE expires_at <= $1", moment)
        if row is None or row["expires_at"] <= moment:
            return None
        return dict(self._codec.open_json(row["data"]))

    # Mastodon apps ------------------------------------------------------------------

    async def get_mastodon_app(self, instance: str) -> tuple[str, str] | None:
        async with self._tx() as db:
            row = await db.fetchrow(
                "SELECT client_id, client_secret FROM mastodon_apps WHERE instance = $1",
                instance,
            )
        if row is None:
            return None
        return row["client_id"], self._codec.cipher.decrypt(row["client_secret"])

    async def save_mastodon_app(self, instance: str, client_id: str, client_secret: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO mastodon_apps (instance, client_id, client_secret) "
                "VALUES ($1, $2, $3) ON CONFLICT (instance) DO UPDATE SET "
                "client_id = excluded.client_id, client_secret = excluded.client_secret",
                instance,
                client_id,
                self._codec.cipher.encrypt(client_secret),
            )
