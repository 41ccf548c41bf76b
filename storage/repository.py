"""The core's ``Repository`` written once in SQL, over a small driver interface.

Every method's logic and statement lives here. Statements are spelled the PostgreSQL way:
numbered parameters ``$1``, ``$2`` (one may appear twice), ``column = ANY($n)`` with a
list parameter for "one of these values" and ``FOR UPDATE`` to lock the rows read;
``storage.sqlite`` translates that spelling for SQLite. The back ends (``storage.sqlite``,
``storage.postgres``) supply the connection and its transactions, a ``Session`` per
transaction, and the few paths whose fast form differs: the bulk writes, running a
migration script, the migration lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from bot.domain.account import PendingRevocation, SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus, decide_launch
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.channels import KnownChannel
from bot.domain.errors import DomainError, LinkedByOther, StaleUpdate
from bot.domain.events import EventKind
from bot.domain.moderation import PendingReason, ReasonKind
from bot.domain.networks import Network
from bot.domain.operations import PledgeCounts, SchemaStatus
from bot.domain.pledge import DeliveryHead, DeliveryState, Pledge, PledgeStatus
from bot.domain.recruits import Recruiter
from bot.domain.refs import ChatRef, UserRef
from bot.domain.updates import CampaignUpdate
from bot.ports import AdmissionReads
from storage import migrations, rows, statements

log = logging.getLogger(__name__)

CHUNK = 5000  # rows (or ids) per statement in the bulk paths
BUILD_SLICE = 100  # rows built into core objects per turn of the event loop (~1 ms)

Values = tuple[Any, ...]


class Session(Protocol):
    """One open transaction. Parameters are bound, never formatted into the text; a
    ``list`` parameter is an array, for ``= ANY($n)``."""

    async def execute(self, sql: str, *params: Any) -> None: ...
    async def fetch_one(self, sql: str, *params: Any) -> rows.Row | None: ...
    async def fetch_all(self, sql: str, *params: Any) -> list[rows.Row]: ...


SessionT = TypeVar("SessionT", bound=Session)
T = TypeVar("T")
FromRow = Callable[[rows.Row, rows.Codec], T]

INSERT_CAMPAIGN = statements.insert(
    "campaigns",
    rows.CAMPAIGN_COLUMNS,
    suffix="ON CONFLICT (ref) DO NOTHING RETURNING *",
)
UPDATE_CAMPAIGN = statements.update_versioned("campaigns", rows.CAMPAIGN_COLUMNS)
INSERT_CARD = statements.insert("cards", rows.CARD_COLUMNS, suffix="RETURNING *")
# a token write (here, in update_tokens, or a revocation) bumps tokens_version: that number
# is the account's change marker (account_stamps). The owner never changes: an account that
# belongs to another person is left as it is and no row comes back (see _owned_by).
UPSERT_ACCOUNT = statements.insert(
    "accounts",
    rows.ACCOUNT_COLUMNS,
    suffix=(
        "ON CONFLICT (network, instance, remote_id) DO UPDATE SET "
        "owner_name = excluded.owner_name, owner_language = excluded.owner_language, "
        "handle = excluded.handle, followers = excluded.followers, "
        "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
        "token_expires_at = excluded.token_expires_at, token_scope = excluded.token_scope, "
        "token_binding = excluded.token_binding, "
        "revoked = FALSE, tokens_version = accounts.tokens_version + 1 "
        "WHERE accounts.owner_platform = excluded.owner_platform "
        "AND accounts.owner_id = excluded.owner_id RETURNING *"
    ),
)
INSERT_PLEDGE = statements.insert(
    "pledges",
    rows.PLEDGE_COLUMNS,
    suffix="ON CONFLICT (campaign_id, account_id) DO NOTHING RETURNING *",
)
# a recruit code is derived, so it is set once and never changed (nor the version bumped):
# an update from a copy read before it was set keeps it
_CODE_PARAM = rows.PLEDGE_COLUMNS.index("recruit_code") + 1
UPDATE_PLEDGE = statements.update_versioned("pledges", rows.PLEDGE_COLUMNS).replace(
    f"recruit_code = ${_CODE_PARAM},",
    f"recruit_code = COALESCE(recruit_code, ${_CODE_PARAM}),",
)
assert "COALESCE(recruit_code" in UPDATE_PLEDGE
SET_RECRUIT_CODE = "UPDATE pledges SET recruit_code = $1 WHERE id = $2 AND recruit_code IS NULL"

# An account's tokens are still needed while one of its pledges is PLEDGED in a campaign
# that is live or launching, or launched and not yet reported (tap read-back reads with them).
_TOKENS_IN_USE = """EXISTS (
    SELECT 1 FROM pledges AS p JOIN campaigns AS c ON c.id = p.campaign_id
    WHERE p.account_id = a.id AND p.status = 'pledged'
      AND (c.status IN ('live', 'launching')
           OR (c.status = 'launched' AND NOT EXISTS (
               SELECT 1 FROM campaign_events AS e
               WHERE e.campaign_id = c.id AND e.kind = 'report'))))"""
_RELEASE = (
    f"INSERT INTO pending_revocations ({', '.join(rows.REVOCATION_COLUMNS)}) "
    "SELECT a.id, a.network, a.instance, a.access_token, a.refresh_token, $2, a.token_binding "
    "FROM accounts AS a WHERE a.id = ANY($1) AND a.access_token <> ''"
)
RELEASE_ANY = _RELEASE + " RETURNING id, account_id"
RELEASE_UNUSED = _RELEASE + f" AND NOT {_TOKENS_IN_USE} RETURNING id, account_id"
ERASE_TOKENS = (
    "UPDATE accounts SET access_token = '', refresh_token = NULL, token_expires_at = NULL, "
    "token_binding = NULL, tokens_version = tokens_version + 1 WHERE id = ANY($1)"
)

# per network; "accounts" are pledges (a campaign has one pledge per account at most)
# a campaign's standing accounts and reach by network, from the tallies the pledges'
# triggers keep (migration 0022), then its posts and failures through the partial index
# that holds only those: before the launch, no pledge row is read at all
_STATS = """
SELECT network, accounts, reach, 0 AS posted, 0 AS failed, 0 AS posted_reach
FROM campaign_network_tallies WHERE campaign_id = $1
UNION ALL
SELECT p.network AS network, 0 AS accounts, 0 AS reach,
       COUNT(*) FILTER (WHERE p.status = 'posted') AS posted,
       COUNT(*) FILTER (WHERE p.status = 'failed') AS failed,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status = 'posted'), 0) AS posted_reach
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.campaign_id = $1 AND p.status IN ('posted', 'failed')
GROUP BY p.network
"""
# supporters are people: one chat identity counts once, however many accounts it pledged
# (campaign_people holds a row per person standing; the trigger on it keeps this count)
_SUPPORTERS = """
SELECT COALESCE(
    (SELECT supporters FROM campaign_tallies WHERE campaign_id = $1), 0
) AS supporters
"""
# each recruited person counts once, for whoever their earliest standing pledge names:
# a recruited standing pledge with no earlier standing one of the same person. Read
# through the (campaign_id, recruited_by) and supporter indexes, not by grouping every
# pledge of the campaign per person (5x faster at 10,000 pledges, one in seven recruited;
# no slower when all are)
_RECRUITERS = """
SELECT p.recruited_by AS recruiter, COUNT(*) AS recruited, MIN(p.created_at) AS since
FROM pledges AS p
WHERE p.campaign_id = $1 AND p.recruited_by IS NOT NULL AND p.status <> 'withdrawn'
AND NOT EXISTS (
    SELECT 1 FROM pledges AS e
    WHERE e.supporter_platform = p.supporter_platform AND e.supporter_id = p.supporter_id
    AND e.campaign_id = p.campaign_id AND e.status <> 'withdrawn' AND e.id < p.id
)
GROUP BY p.recruited_by
ORDER BY recruited DESC, since, recruiter
"""

_POST_LINKS = (
    "SELECT remote_post_url FROM pledges WHERE campaign_id = $1 "
    "AND status = 'posted' AND remote_post_url IS NOT NULL "
    "AND remote_post_url <> '' ORDER BY id LIMIT $2"
)


_ACCOUNT_BY_KEY = "SELECT * FROM accounts WHERE network = $1 AND instance = $2 AND remote_id = $3"
# the campaign named by its ref ($1), for the reads that go with reading the campaign
_BY_REF = "(SELECT id FROM campaigns WHERE ref = $1)"
_SUPPORTERS_BY_REF = _SUPPORTERS.replace("campaign_id = $1", f"campaign_id = {_BY_REF}")
_PLEDGE_OF_ACCOUNT = (
    "SELECT p.* FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id "
    f"WHERE p.campaign_id = {_BY_REF} "
    "AND a.network = $2 AND a.instance = $3 AND a.remote_id = $4"
)
_PLEDGES_OF_PERSON = (
    f"SELECT * FROM pledges WHERE campaign_id = {_BY_REF} AND supporter_platform = $2 "
    "AND supporter_id = $3 ORDER BY id"
)


def _owned_by(row: rows.Row, account: SocialAccount) -> bool:
    """Whether a stored account row is ``account``, owned by the same person."""
    return (
        row["network"] == account.network
        and row["instance"] == account.instance
        and row["remote_id"] == account.remote_id
        and row["owner_platform"] == account.owner.platform
        and row["owner_id"] == account.owner.id
    )


def _moment(value: datetime | None) -> datetime:
    assert value is not None  # a NOT NULL column
    return value


def _linked_by_other(account: SocialAccount) -> DomainError:
    return LinkedByOther(account)


class SqlRepository(Generic[SessionT]):
    """Everything the core stores; a back end subclasses it with its driver."""

    dialect: str  # the folder of its migration steps
    version_table: str  # CREATE TABLE IF NOT EXISTS schema_version …

    def __init__(self, codec: rows.Codec) -> None:
        self._codec = codec

    # what a back end supplies ---------------------------------------------------------

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[SessionT]:
        """A session inside one transaction, committed on exit, rolled back on error;
        ``write=False`` promises only reads."""
        raise NotImplementedError

    def _single(self, *, write: bool = True) -> AbstractAsyncContextManager[SessionT]:
        """A session for exactly one statement, which is its own atomic transaction.

        A back end may run it in autocommit, one trip to the database instead of three
        (BEGIN, the statement, COMMIT); by default it is an ordinary transaction. Only
        single-statement methods use it: anything that must see or change two rows
        atomically stays in ``transaction``."""
        return self.transaction(write=write)

    async def _reads(self, *queries: tuple[str, Sequence[Any]]) -> list[list[rows.Row]]:
        """The rows of each of several reads (statement, parameters), at once: a back end
        may send them in one trip. Here they share one read transaction."""
        async with self.transaction(write=False) as db:
            return [await db.fetch_all(sql, *params) for sql, params in queries]

    async def close(self) -> None:
        raise NotImplementedError

    async def _lock_migrations(self, db: SessionT) -> None:
        """Keep other processes from migrating until this transaction ends (if they can)."""

    async def _run_script(self, db: SessionT, script: str) -> None:
        """Run every statement of a migration script inside the session's transaction."""
        raise NotImplementedError

    async def _upsert_accounts(self, db: SessionT, values: list[Values]) -> list[rows.Row]:
        """``UPSERT_ACCOUNT`` for each of ``values``; the stored rows, in the same order (a
        back end may leave out, or return unchanged, the row of an account another person
        owns: ``save_accounts`` refuses the batch then)."""
        raise NotImplementedError

    async def _insert_pledges(self, db: SessionT, values: list[Values]) -> list[rows.Row]:
        """``INSERT_PLEDGE`` for each of ``values``; the inserted rows, in the same order."""
        raise NotImplementedError

    async def _write_recruit_codes(self, db: SessionT, params: list[tuple[str, int]]) -> None:
        """``SET_RECRUIT_CODE`` for each (code, pledge id), in one round trip where the
        driver allows."""
        raise NotImplementedError

    async def _write_deliveries(
        self, db: SessionT, ids: list[int | None], values: list[Values]
    ) -> None:
        """Set ``rows.DELIVERY_COLUMNS`` to ``values[i]`` (and bump version) on pledge
        ``ids[i]``."""
        raise NotImplementedError

    # reads that map rows to core objects ----------------------------------------------

    async def _one(self, from_row: FromRow[T], sql: str, *params: Any) -> T | None:
        """The first row a read returns, as a core object, or None."""
        async with self._single(write=False) as db:
            row = await db.fetch_one(sql, *params)
        return None if row is None else from_row(row, self._codec)

    async def _all(self, from_row: FromRow[T], sql: str, *params: Any) -> list[T]:
        """Every row a read returns, as core objects, built a slice at a time: 10,000
        pledges take 50-100 ms to build, which one turn of the event loop must not hold
        (every reply waiting meanwhile would wait as long). A reply itself needs a dozen
        turns or more (its reads, its send), each behind one slice: so slices are small."""
        async with self._single(write=False) as db:
            found = await db.fetch_all(sql, *params)
        codec = self._codec
        if len(found) <= BUILD_SLICE:
            return [from_row(row, codec) for row in found]
        built: list[T] = []
        for start in range(0, len(found), BUILD_SLICE):
            built += [from_row(row, codec) for row in found[start : start + BUILD_SLICE]]
            await asyncio.sleep(0)  # let the loop run between slices
        return built

    # migrations -----------------------------------------------------------------------

    async def migrate(self) -> int:
        return await migrations.migrate(self, self.dialect)

    async def schema_version(self) -> int:
        async with self.transaction() as db:
            await self._lock_migrations(db)
            await db.execute(self.version_table)
            row = await db.fetch_one(
                "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version"
            )
        assert row is not None
        return int(row["version"])

    async def schema_status(self) -> SchemaStatus:
        """The applied and the known schema versions, in one read (no lock, no write)."""
        known = len(migrations.load_steps(self.dialect))
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version"
            )
        return SchemaStatus(applied=int(row["version"]) if row is not None else 0, known=known)

    async def pledge_counts(self) -> PledgeCounts:
        by_status = {status.value: 0 for status in PledgeStatus}
        async with self.transaction(write=False) as db:
            found = await db.fetch_all("SELECT status, COUNT(*) AS n FROM pledges GROUP BY status")
            queued = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM pledges JOIN campaigns "
                "ON campaigns.id = pledges.campaign_id "
                "WHERE campaigns.status = $1 AND pledges.status = $2",
                CampaignStatus.LAUNCHING.value,
                PledgeStatus.PLEDGED.value,
            )
        for row in found:
            by_status[str(row["status"])] = int(row["n"])
        return PledgeCounts(by_status, int(queued["n"]) if queued is not None else 0)

    async def apply_step(self, step: migrations.Step) -> bool:
        async with self.transaction() as db:
            await self._lock_migrations(db)
            done = await db.fetch_one(
                "SELECT 1 FROM schema_version WHERE version = $1", step.version
            )
            if done is not None:
                return False
            await self._run_script(db, step.sql)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                step.version,
                step.name,
                self._codec.time_in(datetime.now(UTC)),
            )
        return True

    # campaigns ------------------------------------------------------------------------

    async def add_campaign(self, campaign: Campaign) -> Campaign:
        async with self._single() as db:
            row = await db.fetch_one(INSERT_CAMPAIGN, *rows.campaign_values(campaign, self._codec))
        if row is None:  # another campaign took this ref in the meantime
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def get_campaign(self, campaign_id: int) -> Campaign | None:
        return await self._one(
            rows.campaign_from_row, "SELECT * FROM campaigns WHERE id = $1", campaign_id
        )

    async def find_campaign(self, ref: str) -> Campaign | None:
        return await self._one(
            rows.campaign_from_row, "SELECT * FROM campaigns WHERE ref = $1", ref
        )

    async def update_campaign(self, campaign: Campaign) -> Campaign:
        if campaign.id is None:
            raise ValueError("update_campaign needs a stored campaign")
        params = (*rows.campaign_values(campaign, self._codec), campaign.id, campaign.version)
        async with self._single() as db:
            row = await db.fetch_one(UPDATE_CAMPAIGN, *params)
        if row is None:
            raise StaleUpdate()
        return rows.campaign_from_row(row, self._codec)

    async def decide_launch(
        self, campaign_id: int, at: datetime, late_minutes: int | None = None
    ) -> Campaign | None:
        # one transaction, the campaign row locked (FOR UPDATE on PostgreSQL; SQLite's
        # write transaction locks the whole database): read, count, decide, write
        async with self.transaction() as db:
            row = await db.fetch_one(
                "SELECT * FROM campaigns WHERE id = $1 FOR UPDATE", campaign_id
            )
            if row is None:
                return None
            stored = rows.campaign_from_row(row, self._codec)
            if not stored.awaits_launch_decision:
                return stored
            supporters = await self._supporters(db, campaign_id)
            if late_minutes is not None:
                stored = replace(stored, late_minutes=late_minutes)
            decided = decide_launch(stored, supporters, at=at)
            values = rows.campaign_values(decided, self._codec)
            row = await db.fetch_one(UPDATE_CAMPAIGN, *values, campaign_id, stored.version)
            if row is None:  # cannot happen under the lock; never write over a change
                raise StaleUpdate()
        log.info(
            "campaign %s: goal %s on %s supporters",
            decided.ref,
            decided.launch_decision,
            supporters,
        )
        return rows.campaign_from_row(row, self._codec)

    async def campaigns_of(self, organiser: UserRef) -> list[Campaign]:
        return await self._all(
            rows.campaign_from_row,
            "SELECT * FROM campaigns WHERE organiser_platform = $1 AND organiser_id = $2 "
            "ORDER BY id",
            organiser.platform,
            organiser.id,
        )

    async def campaigns_in(self, statuses: Collection[CampaignStatus]) -> list[Campaign]:
        return await self._all(
            rows.campaign_from_row,
            "SELECT * FROM campaigns WHERE status = ANY($1) ORDER BY id",
            rows.status_values(list(statuses)),
        )

    # cards ----------------------------------------------------------------------------

    async def add_card(self, card: PostedCard) -> PostedCard:
        async with self._single() as db:
            row = await db.fetch_one(INSERT_CARD, *rows.card_values(card, self._codec))
        assert row is not None
        return rows.card_from_row(row, self._codec)

    async def cards_of(self, campaign_id: int, kind: CardKind | None = None) -> list[PostedCard]:
        return await self._all(
            rows.card_from_row,
            "SELECT * FROM cards WHERE campaign_id = $1 "
            "AND (CAST($2 AS TEXT) IS NULL OR kind = $2) ORDER BY id",
            campaign_id,
            kind.value if kind is not None else None,
        )

    async def replace_chat_card(self, card: PostedCard) -> tuple[PostedCard, list[PostedCard]]:
        async with self.transaction() as db:
            gone = await db.fetch_all(
                "DELETE FROM cards WHERE campaign_id = $1 AND kind = $2 "
                "AND chat_platform = $3 AND chat_id = $4 RETURNING *",
                card.campaign_id,
                card.kind.value,
                card.message.chat.platform,
                card.message.chat.id,
            )
            row = await db.fetch_one(INSERT_CARD, *rows.card_values(card, self._codec))
        assert row is not None
        replaced = [rows.card_from_row(r, self._codec) for r in gone]
        replaced.sort(key=lambda old: old.id or 0)  # DELETE … RETURNING has no order
        return rows.card_from_row(row, self._codec), replaced

    async def remove_card(self, card_id: int) -> None:
        async with self._single() as db:
            await db.execute("DELETE FROM cards WHERE id = $1", card_id)

    # accounts -------------------------------------------------------------------------

    async def save_account(self, account: SocialAccount) -> SocialAccount:
        async with self._single() as db:
            row = await db.fetch_one(UPSERT_ACCOUNT, *rows.account_values(account, self._codec))
        if row is None:  # the account is someone else's: the upsert left it alone
            raise _linked_by_other(account)
        return rows.account_from_row(row, self._codec)

    async def save_accounts(self, accounts: Sequence[SocialAccount]) -> list[SocialAccount]:
        values = [rows.account_values(account, self._codec) for account in accounts]
        if not values:
            return []
        async with self.transaction() as db:
            saved = await self._upsert_accounts(db, values)
            for position, account in enumerate(accounts):  # raising rolls the batch back
                if position >= len(saved) or not _owned_by(saved[position], account):
                    raise _linked_by_other(account)
        return [rows.account_from_row(row, self._codec) for row in saved]

    async def find_account(
        self, network: Network, instance: str, remote_id: str
    ) -> SocialAccount | None:
        return await self._one(
            rows.account_from_row,
            _ACCOUNT_BY_KEY,
            str(network),
            instance,
            remote_id,
        )

    async def get_account(self, account_id: int) -> SocialAccount | None:
        return await self._one(
            rows.account_from_row, "SELECT * FROM accounts WHERE id = $1", account_id
        )

    async def get_accounts(self, account_ids: Collection[int]) -> dict[int, SocialAccount]:
        accounts = await self._all(
            rows.account_from_row, "SELECT * FROM accounts WHERE id = ANY($1)", list(account_ids)
        )
        return {account.id: account for account in accounts if account.id is not None}

    async def account_stamps(self, account_ids: Collection[int]) -> dict[int, str]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT id, tokens_version FROM accounts WHERE id = ANY($1)", list(account_ids)
            )
        return {row["id"]: str(row["tokens_version"]) for row in found}

    async def accounts_of(self, owner: UserRef) -> list[SocialAccount]:
        return await self._all(
            rows.account_from_row,
            "SELECT * FROM accounts WHERE owner_platform = $1 AND owner_id = $2 ORDER BY id",
            owner.platform,
            owner.id,
        )

    async def update_tokens(self, account_id: int, tokens: TokenSet) -> None:
        async with self._single() as db:
            await db.execute(
                "UPDATE accounts SET access_token = $1, refresh_token = $2, "
                "token_expires_at = $3, token_scope = $4, token_binding = $5, "
                "tokens_version = tokens_version + 1 WHERE id = $6",
                *rows.token_values(tokens, self._codec),
                account_id,
            )

    async def mark_account_revoked(self, account_id: int) -> None:
        async with self._single() as db:
            await db.execute(
                "UPDATE accounts SET revoked = TRUE, tokens_version = tokens_version + 1 "
                "WHERE id = $1 AND NOT revoked",
                account_id,
            )

    async def erase_supporter(self, owner: UserRef) -> int:
        async with self.transaction() as db:
            await db.execute(  # whom they brought stay counted, no longer naming them
                "UPDATE pledges SET recruited_by = NULL WHERE recruited_by = $1", owner.key
            )
            await db.execute(  # their mutes of campaign updates go with them
                "DELETE FROM update_mutes WHERE person_platform = $1 AND person_id = $2",
                owner.platform,
                owner.id,
            )
            await db.execute("DELETE FROM recruiter_names WHERE supporter_key = $1", owner.key)
            await db.execute(
                "DELETE FROM pledges WHERE account_id IN "
                "(SELECT id FROM accounts WHERE owner_platform = $1 AND owner_id = $2) "
                "OR (supporter_platform = $1 AND supporter_id = $2)",
                owner.platform,
                owner.id,
            )
            erased = await db.fetch_all(
                "DELETE FROM accounts WHERE owner_platform = $1 AND owner_id = $2 RETURNING id",
                owner.platform,
                owner.id,
            )
        log.info("erased %s accounts of %s", len(erased), owner.key)
        return len(erased)

    # token lifetime -------------------------------------------------------------------

    async def release_tokens(
        self, account_ids: Collection[int], at: datetime, *, unless_in_use: bool = True
    ) -> list[int]:
        ids = sorted(set(account_ids))
        if not ids:
            return []
        async with self.transaction() as db:
            queued = await db.fetch_all(
                RELEASE_UNUSED if unless_in_use else RELEASE_ANY, ids, self._codec.time_in(at)
            )
            if queued:
                await db.execute(ERASE_TOKENS, [row["account_id"] for row in queued])
        return sorted(row["id"] for row in queued)

    async def queue_revocation(
        self, network: Network, instance: str, tokens: TokenSet, at: datetime
    ) -> int:
        access, refresh, _, _, binding = rows.token_values(tokens, self._codec)
        async with self._single() as db:
            row = await db.fetch_one(
                f"INSERT INTO pending_revocations ({', '.join(rows.REVOCATION_COLUMNS)}) "
                "VALUES (NULL, $1, $2, $3, $4, $5, $6) RETURNING id",
                str(network),
                instance,
                access,
                refresh,
                self._codec.time_in(at),
                binding,
            )
        assert row is not None
        return int(row["id"])

    async def pending_revocations(
        self, revocation_ids: Collection[int]
    ) -> list[PendingRevocation]:
        return await self._all(
            rows.revocation_from_row,
            "SELECT * FROM pending_revocations WHERE id = ANY($1) ORDER BY id",
            sorted(revocation_ids),
        )

    async def due_revocations(self, before: datetime, limit: int) -> list[PendingRevocation]:
        return await self._all(
            rows.revocation_from_row,
            "SELECT * FROM pending_revocations "
            "WHERE last_attempt_at IS NULL OR last_attempt_at <= $1 ORDER BY id LIMIT $2",
            self._codec.time_in(before),
            limit,
        )

    async def revocations_done(self, revocation_ids: Collection[int]) -> None:
        async with self._single() as db:
            await db.execute(
                "DELETE FROM pending_revocations WHERE id = ANY($1)", sorted(revocation_ids)
            )

    async def revocations_failed(
        self, revocation_ids: Collection[int], at: datetime, error: str
    ) -> None:
        async with self._single() as db:
            await db.execute(
                "UPDATE pending_revocations SET attempts = attempts + 1, "
                "last_attempt_at = $2, last_error = $3 WHERE id = ANY($1)",
                sorted(revocation_ids),
                self._codec.time_in(at),
                error[:200],
            )

    # pledges --------------------------------------------------------------------------

    async def add_pledge(self, pledge: Pledge) -> Pledge:
        async with self._single() as db:
            row = await db.fetch_one(INSERT_PLEDGE, *rows.pledge_values(pledge, self._codec))
        if row is None:
            raise DomainError("pledge.already", title="")
        return rows.pledge_from_row(row, self._codec)

    async def add_pledges(self, pledges: Sequence[Pledge]) -> list[Pledge]:
        values = [rows.pledge_values(pledge, self._codec) for pledge in pledges]
        if not values:
            return []
        async with self.transaction() as db:
            added = await self._insert_pledges(db, values)
        return [rows.pledge_from_row(row, self._codec) for row in added]

    async def get_pledge(self, pledge_id: int) -> Pledge | None:
        return await self._one(
            rows.pledge_from_row, "SELECT * FROM pledges WHERE id = $1", pledge_id
        )

    async def get_pledges(self, pledge_ids: Collection[int]) -> list[Pledge]:
        return await self._all(
            rows.pledge_from_row,
            "SELECT * FROM pledges WHERE id = ANY($1) ORDER BY id",
            list(pledge_ids),
        )

    async def find_pledge(self, campaign_id: int, account_id: int) -> Pledge | None:
        return await self._one(
            rows.pledge_from_row,
            "SELECT * FROM pledges WHERE campaign_id = $1 AND account_id = $2",
            campaign_id,
            account_id,
        )

    async def update_pledge(self, pledge: Pledge) -> Pledge:
        if pledge.id is None:
            raise ValueError("update_pledge needs a stored pledge")
        params = (*rows.pledge_values(pledge, self._codec), pledge.id, pledge.version)
        async with self._single() as db:
            row = await db.fetch_one(UPDATE_PLEDGE, *params)
        if row is None:
            raise StaleUpdate()
        return rows.pledge_from_row(row, self._codec)

    async def pledges_of_campaign(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> list[Pledge]:
        wanted = rows.status_values(None if statuses is None else list(statuses))
        if wanted is None:
            return await self._all(
                rows.pledge_from_row,
                "SELECT * FROM pledges WHERE campaign_id = $1 ORDER BY id",
                campaign_id,
            )
        return await self._all(
            rows.pledge_from_row,
            "SELECT * FROM pledges WHERE campaign_id = $1 AND status = ANY($2) ORDER BY id",
            campaign_id,
            wanted,
        )

    async def delivery_heads(self, campaign_id: int) -> list[DeliveryHead]:
        return await self._all(
            rows.delivery_head_from_row,
            "SELECT id, network, delivery, delivery_mode FROM pledges "
            "WHERE campaign_id = $1 AND status = $2 ORDER BY id",
            campaign_id,
            PledgeStatus.PLEDGED.value,
        )

    async def pledges_of_supporter(self, supporter: UserRef) -> list[Pledge]:
        return await self._all(
            rows.pledge_from_row,
            "SELECT * FROM pledges WHERE supporter_platform = $1 AND supporter_id = $2 "
            "ORDER BY id",
            supporter.platform,
            supporter.id,
        )

    async def campaign_stats(self, campaign_id: int) -> CampaignStats:
        found, people = await self._reads((_STATS, (campaign_id,)), (_SUPPORTERS, (campaign_id,)))
        return rows.stats_from_rows(found, int(people[0]["supporters"]))

    async def supporter_count(self, campaign_id: int) -> int:
        async with self._single(write=False) as db:
            return await self._supporters(db, campaign_id)

    async def named_and_supporters(self, campaign_id: int, supporter_key: str) -> tuple[bool, int]:
        named, people = await self._reads(
            (
                "SELECT 1 FROM recruiter_names WHERE campaign_id = $1 AND supporter_key = $2",
                (campaign_id, supporter_key),
            ),
            (_SUPPORTERS, (campaign_id,)),
        )
        return bool(named), int(people[0]["supporters"])

    async def admission_reads(
        self,
        ref: str,
        network: Network,
        instance: str,
        remote_id: str,
        supporter: UserRef,
    ) -> AdmissionReads:
        key = (str(network), instance, remote_id)
        campaigns, accounts, earlier, mine, people = await self._reads(
            ("SELECT * FROM campaigns WHERE ref = $1", (ref,)),
            (_ACCOUNT_BY_KEY, key),
            (_PLEDGE_OF_ACCOUNT, (ref, *key)),
            (_PLEDGES_OF_PERSON, (ref, supporter.platform, supporter.id)),
            (_SUPPORTERS_BY_REF, (ref,)),
        )
        codec = self._codec
        return AdmissionReads(
            rows.campaign_from_row(campaigns[0], codec) if campaigns else None,
            rows.account_from_row(accounts[0], codec) if accounts else None,
            rows.pledge_from_row(earlier[0], codec) if earlier else None,
            [rows.pledge_from_row(row, codec) for row in mine],
            int(people[0]["supporters"]),
        )

    async def supporter_by_recruit_code(self, campaign_id: int, code: str) -> UserRef | None:
        return await self._one(
            rows.supporter_from_row,
            "SELECT supporter_platform, supporter_id, supporter_name, supporter_language "
            "FROM pledges WHERE campaign_id = $1 AND recruit_code = $2 ORDER BY id LIMIT 1",
            campaign_id,
            code,
        )

    async def pledges_without_recruit_code(
        self, campaign_id: int, limit: int
    ) -> list[tuple[int, UserRef]]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT id, supporter_platform, supporter_id, supporter_name, "
                "supporter_language FROM pledges "
                "WHERE campaign_id = $1 AND recruit_code IS NULL ORDER BY id LIMIT $2",
                campaign_id,
                limit,
            )
        return [(int(row["id"]), rows.supporter_from_row(row, self._codec)) for row in found]

    async def set_recruit_codes(self, codes: Mapping[int, str]) -> None:
        if not codes:
            return
        async with self.transaction() as db:
            await self._write_recruit_codes(
                db, [(code, pledge_id) for pledge_id, code in sorted(codes.items())]
            )

    async def post_links(self, campaign_id: int, limit: int) -> list[str]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(_POST_LINKS, campaign_id, limit)
        return [str(row["remote_post_url"]) for row in found]

    async def recruiters(self, campaign_id: int) -> list[Recruiter]:
        return await self._all(rows.recruiter_from_row, _RECRUITERS, campaign_id)

    async def name_recruiter(self, campaign_id: int, supporter_key: str, name: str) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO recruiter_names (campaign_id, supporter_key, name) "
                "VALUES ($1, $2, $3) ON CONFLICT (campaign_id, supporter_key) "
                "DO UPDATE SET name = excluded.name",
                campaign_id,
                supporter_key,
                name,
            )

    async def unname_recruiter(self, campaign_id: int, supporter_key: str) -> bool:
        async with self._single() as db:
            gone = await db.fetch_all(
                "DELETE FROM recruiter_names WHERE campaign_id = $1 AND supporter_key = $2 "
                "RETURNING name",
                campaign_id,
                supporter_key,
            )
        return bool(gone)

    async def recruiter_names(self, campaign_id: int) -> dict[str, str]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT supporter_key, name FROM recruiter_names WHERE campaign_id = $1",
                campaign_id,
            )
        return {str(row["supporter_key"]): str(row["name"]) for row in found}

    # what a page or /status shows (bot.services.figures), in one transaction -------------

    async def shown_figures(
        self, campaign_id: int, posts: int
    ) -> tuple[CampaignStats, list[Recruiter], dict[str, str], list[str]]:
        # one read instead of four: on SQLite one trip to the connection's thread
        queries: list[tuple[str, Sequence[Any]]] = [
            (_STATS, (campaign_id,)),
            (_SUPPORTERS, (campaign_id,)),
            (_RECRUITERS, (campaign_id,)),
            (
                "SELECT supporter_key, name FROM recruiter_names WHERE campaign_id = $1",
                (campaign_id,),
            ),
        ]
        if posts > 0:
            queries.append((_POST_LINKS, (campaign_id, posts)))
        stats, people, recruiters, names, *rest = await self._reads(*queries)
        links = rest[0] if rest else []
        supporters = int(people[0]["supporters"])
        return (
            rows.stats_from_rows(stats, supporters),
            [rows.recruiter_from_row(row, self._codec) for row in recruiters],
            {str(row["supporter_key"]): str(row["name"]) for row in names},
            [str(row["remote_post_url"]) for row in links],
        )

    async def variant_counts(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> dict[int, int]:
        wanted = rows.status_values(None if statuses is None else list(statuses))
        sql = (
            "SELECT COALESCE(variant, 0) AS variant, COUNT(*) AS pledges FROM pledges "
            "WHERE campaign_id = $1 AND message IS NULL"
        )
        params: list[Any] = [campaign_id]
        if wanted is not None:
            sql += " AND status = ANY($2)"
            params.append(wanted)
        async with self._single(write=False) as db:
            found = await db.fetch_all(sql + " GROUP BY COALESCE(variant, 0)", *params)
        return {int(row["variant"]): int(row["pledges"]) for row in found}

    async def _supporters(self, db: SessionT, campaign_id: int) -> int:
        row = await db.fetch_one(_SUPPORTERS, campaign_id)
        assert row is not None
        return int(row["supporters"])

    async def set_delivery(
        self,
        pledge_ids: Sequence[int],
        state: DeliveryState,
        *,
        expected: DeliveryState | None = None,
    ) -> list[int]:
        moved: set[int] = set()
        expected_value = expected.value if expected is not None else None
        async with self.transaction() as db:
            for start in range(0, len(pledge_ids), CHUNK):
                found = await db.fetch_all(
                    "UPDATE pledges SET delivery = $1, version = version + 1 "
                    "WHERE id = ANY($2) AND (CAST($3 AS TEXT) IS NULL OR delivery = $3) "
                    "RETURNING id",
                    state.value,
                    list(pledge_ids[start : start + CHUNK]),
                    expected_value,
                )
                moved.update(row["id"] for row in found)
        return [pledge_id for pledge_id in pledge_ids if pledge_id in moved]

    async def record_deliveries(self, pledges: Sequence[Pledge]) -> None:
        ids = [pledge.id for pledge in pledges]
        values = [rows.delivery_values(pledge, self._codec) for pledge in pledges]
        async with self.transaction() as db:
            await self._write_deliveries(db, ids, values)

    # once-only events, nonces ---------------------------------------------------------

    async def claim_event(
        self, campaign_id: int, kind: EventKind, at: datetime, subject: int | None = None
    ) -> bool:
        # the unique index on (campaign_id, kind, COALESCE(subject, -1)) makes it once
        async with self._single() as db:
            row = await db.fetch_one(
                "INSERT INTO campaign_events (campaign_id, kind, subject, claimed_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING kind",
                campaign_id,
                kind.value,
                subject,
                self._codec.time_in(at),
            )
        return row is not None

    async def event_claimed(
        self, campaign_id: int, kind: EventKind, subject: int | None = None
    ) -> bool:
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT 1 FROM campaign_events WHERE campaign_id = $1 AND kind = $2 "
                "AND COALESCE(subject, -1) = COALESCE(CAST($3 AS BIGINT), -1)",
                campaign_id,
                kind.value,
                subject,
            )
        return row is not None

    async def count_events(self, campaign_id: int, kind: EventKind) -> int:
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM campaign_events WHERE campaign_id = $1 AND kind = $2",
                campaign_id,
                kind.value,
            )
        return int(row["n"]) if row is not None else 0

    async def event_subjects(self, campaign_id: int, kind: EventKind) -> set[int]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT subject FROM campaign_events WHERE campaign_id = $1 AND kind = $2 "
                "AND subject IS NOT NULL",
                campaign_id,
                kind.value,
            )
        return {int(row["subject"]) for row in found}

    async def consume_nonce(self, nonce: str, expires_at: datetime) -> bool:
        async with self._single() as db:
            row = await db.fetch_one(
                "INSERT INTO used_nonces (nonce, expires_at) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING nonce",
                nonce,
                self._codec.time_in(expires_at),
            )
        return row is not None

    async def nonce_and_campaign(self, nonce: str, ref: str) -> tuple[bool, Campaign | None]:
        used, found = await self._reads(
            ("SELECT 1 FROM used_nonces WHERE nonce = $1", (nonce,)),
            ("SELECT * FROM campaigns WHERE ref = $1", (ref,)),
        )
        campaign = rows.campaign_from_row(found[0], self._codec) if found else None
        return bool(used), campaign

    async def nonce_used(self, nonce: str) -> bool:
        async with self._single(write=False) as db:
            row = await db.fetch_one("SELECT 1 FROM used_nonces WHERE nonce = $1", nonce)
        return row is not None

    # dialogs --------------------------------------------------------------------------

    async def save_dialog(self, user_key: str, state: dict[str, Any]) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO dialogs (user_key, state) VALUES ($1, $2) "
                "ON CONFLICT (user_key) DO UPDATE SET state = excluded.state",
                user_key,
                self._codec.json_in(state),
            )

    async def load_dialog(self, user_key: str) -> dict[str, Any] | None:
        async with self._single(write=False) as db:
            row = await db.fetch_one("SELECT state FROM dialogs WHERE user_key = $1", user_key)
        return None if row is None else dict(self._codec.json_out(row["state"]))

    async def delete_dialog(self, user_key: str) -> None:
        async with self._single() as db:
            await db.execute("DELETE FROM dialogs WHERE user_key = $1", user_key)

    # pending reject reasons -----------------------------------------------------------

    async def save_pending_reason(self, pending: PendingReason) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO pending_reject_reasons "
                "(moderator_key, campaign_id, prompt_id, expires_at, kind) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (moderator_key) DO UPDATE SET campaign_id = excluded.campaign_id, "
                "prompt_id = excluded.prompt_id, expires_at = excluded.expires_at, "
                "kind = excluded.kind",
                pending.moderator_key,
                pending.campaign_id,
                pending.prompt_id,
                self._codec.time_in(pending.expires_at),
                pending.kind.value,
            )

    async def pending_reason(self, moderator_key: str, now: datetime) -> PendingReason | None:
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT campaign_id, prompt_id, expires_at, kind FROM pending_reject_reasons "
                "WHERE moderator_key = $1 AND expires_at > $2",
                moderator_key,
                self._codec.time_in(now),
            )
        if row is None:
            return None
        expires_at = self._codec.time_out(row["expires_at"])
        assert expires_at is not None
        return PendingReason(
            moderator_key,
            row["campaign_id"],
            row["prompt_id"],
            expires_at,
            ReasonKind(row["kind"]),
        )

    async def drop_pending_reason(self, moderator_key: str) -> None:
        async with self._single() as db:
            await db.execute(
                "DELETE FROM pending_reject_reasons WHERE moderator_key = $1", moderator_key
            )

    # OAuth states ---------------------------------------------------------------------

    async def save_oauth_state(
        self, state: str, data: dict[str, Any], expires_at: datetime
    ) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO oauth_states (state, data, expires_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (state) DO UPDATE SET data = excluded.data, "
                "expires_at = excluded.expires_at",
                state,
                self._codec.seal_json(data),
                self._codec.time_in(expires_at),
            )

    async def take_oauth_state(self, state: str, now: datetime) -> dict[str, Any] | None:
        # the expired states of others go with purge_expired (maintenance), not per callback
        moment = self._codec.time_in(now)
        async with self._single() as db:
            row = await db.fetch_one(
                "DELETE FROM oauth_states WHERE state = $1 RETURNING data, expires_at", state
            )
        if row is None or row["expires_at"] <= moment:
            return None
        return dict(self._codec.open_json(row["data"]))

    # clean-up -------------------------------------------------------------------------

    async def purge_expired(self, now: datetime) -> int:
        moment = self._codec.time_in(now)
        async with self.transaction() as db:
            states = await db.fetch_all(
                "DELETE FROM oauth_states WHERE expires_at <= $1 RETURNING state", moment
            )
            nonces = await db.fetch_all(
                "DELETE FROM used_nonces WHERE expires_at <= $1 RETURNING nonce", moment
            )
            reasons = await db.fetch_all(
                "DELETE FROM pending_reject_reasons WHERE expires_at <= $1 "
                "RETURNING moderator_key",
                moment,
            )
        return len(states) + len(nonces) + len(reasons)

    # Mastodon apps --------------------------------------------------------------------

    async def get_mastodon_app(self, instance: str) -> tuple[str, str] | None:
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT client_id, client_secret FROM mastodon_apps WHERE instance = $1",
                instance,
            )
        if row is None:
            return None
        return row["client_id"], self._codec.cipher.decrypt(row["client_secret"])

    async def save_mastodon_app(
        self, instance: str, client_id: str, client_secret: str, *, registered_at: datetime
    ) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO mastodon_apps (instance, client_id, client_secret, registered_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (instance) DO UPDATE SET "
                "client_id = excluded.client_id, client_secret = excluded.client_secret, "
                "registered_at = excluded.registered_at",
                instance,
                client_id,
                self._codec.cipher.encrypt(client_secret),
                self._codec.time_in(registered_at),
            )

    async def count_mastodon_registrations(self, since: datetime) -> int:
        async with self._single(write=False) as db:
            row = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM mastodon_apps WHERE registered_at >= $1",
                self._codec.time_in(since),
            )
        return int(row["n"]) if row is not None else 0

    # known channels -------------------------------------------------------------------

    async def save_channel(self, channel: KnownChannel) -> None:
        async with self._single() as db:
            await db.execute(
                "INSERT INTO known_channels (chat_platform, chat_id, title, username, added_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chat_platform, chat_id) DO UPDATE "
                "SET title = excluded.title, username = excluded.username",
                channel.chat.platform,
                channel.chat.id,
                channel.title,
                channel.username,
                self._codec.time_in(channel.added_at),
            )

    async def channels_on(self, platform: str) -> list[KnownChannel]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT * FROM known_channels WHERE chat_platform = $1 ORDER BY title, chat_id",
                platform,
            )
        channels = []
        for row in found:
            added_at = self._codec.time_out(row["added_at"])
            assert added_at is not None
            chat = ChatRef(row["chat_platform"], row["chat_id"])
            channels.append(KnownChannel(chat, row["title"], row["username"], added_at))
        return channels

    async def forget_channel(self, chat: ChatRef) -> int:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM known_channels WHERE chat_platform = $1 AND chat_id = $2",
                chat.platform,
                chat.id,
            )
            cards = await db.fetch_all(
                "DELETE FROM cards WHERE chat_platform = $1 AND chat_id = $2 RETURNING id",
                chat.platform,
                chat.id,
            )
        return len(cards)

    # organiser updates and their mutes ------------------------------------------------

    async def add_update(
        self, update: CampaignUpdate, *, since: datetime, limit: int
    ) -> CampaignUpdate | None:
        async with self.transaction() as db:
            # the campaign row locked, so two updates at once cannot both take the last slot
            await db.fetch_one(
                "SELECT id FROM campaigns WHERE id = $1 FOR UPDATE", update.campaign_id
            )
            row = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM campaign_updates WHERE campaign_id = $1 "
                "AND sent_at > $2",
                update.campaign_id,
                self._codec.time_in(since),
            )
            if row is not None and int(row["n"]) >= limit:
                return None
            stored = await db.fetch_one(
                "INSERT INTO campaign_updates (campaign_id, text, sent_at) "
                "VALUES ($1, $2, $3) RETURNING id",
                update.campaign_id,
                update.text,
                self._codec.time_in(update.sent_at),
            )
        assert stored is not None
        return replace(update, id=int(stored["id"]))

    async def update_times(self, campaign_id: int, since: datetime) -> list[datetime]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT sent_at FROM campaign_updates WHERE campaign_id = $1 AND sent_at > $2 "
                "ORDER BY sent_at",
                campaign_id,
                self._codec.time_in(since),
            )
        return [_moment(self._codec.time_out(row["sent_at"])) for row in found]

    async def finish_update(self, update: CampaignUpdate) -> None:
        async with self._single() as db:
            await db.execute(
                "UPDATE campaign_updates SET total = $1, reached = $2, muted = $3, "
                "unreachable = $4 WHERE id = $5",
                update.total,
                update.reached,
                update.muted,
                update.unreachable,
                update.id,
            )

    async def updates_of(self, campaign_id: int) -> list[CampaignUpdate]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT * FROM campaign_updates WHERE campaign_id = $1 ORDER BY sent_at, id",
                campaign_id,
            )
        return [
            CampaignUpdate(
                campaign_id=int(row["campaign_id"]),
                text=str(row["text"]),
                sent_at=_moment(self._codec.time_out(row["sent_at"])),
                total=int(row["total"]),
                reached=int(row["reached"]),
                muted=int(row["muted"]),
                unreachable=int(row["unreachable"]),
                id=int(row["id"]),
            )
            for row in found
        ]

    async def set_update_mute(
        self, campaign_id: int, person: UserRef, *, muted: bool, at: datetime
    ) -> None:
        async with self.transaction() as db:
            if muted:
                await db.execute(
                    "INSERT INTO update_mutes (campaign_id, person_platform, person_id, muted_at) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    campaign_id,
                    person.platform,
                    person.id,
                    self._codec.time_in(at),
                )
            else:
                await db.execute(
                    "DELETE FROM update_mutes WHERE campaign_id = $1 AND person_platform = $2 "
                    "AND person_id = $3",
                    campaign_id,
                    person.platform,
                    person.id,
                )

    async def muted_people(self, campaign_id: int) -> set[str]:
        async with self._single(write=False) as db:
            found = await db.fetch_all(
                "SELECT person_platform, person_id FROM update_mutes WHERE campaign_id = $1",
                campaign_id,
            )
        return {f"{row['person_platform']}:{row['person_id']}" for row in found}
