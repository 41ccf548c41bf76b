"""A database made by an older schema upgrades in place: the accounts get a change marker
(``tokens_version``) that moves on token writes and revocation only; campaign notes and event
names become typed columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.crypto import TokenCipher
from bot.domain.account import FOLLOWERS_MAX, SocialAccount, TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.events import EventKind
from bot.domain.updates import CampaignUpdate
from bot.services.recruits import RecruitCodes
from storage import migrations, open_repository, rows, statements
from storage.blast_queue import open_blast_queue
from storage.repository import SqlRepository
from tests.conftest import TEST_SECRET
from tests.integration.storage.builders import (
    ALICE,
    BOB,
    T0,
    account,
    campaign,
    pledge,
    store_campaign_as_before,
    store_pledge_as_before,
)

# the accounts' columns before step 9 (no token binding)
_BINDING = rows.ACCOUNT_COLUMNS.index("token_binding")
OLD_ACCOUNT_COLUMNS = rows.ACCOUNT_COLUMNS[:_BINDING] + rows.ACCOUNT_COLUMNS[_BINDING + 1 :]


def _old_account_values(stored: SocialAccount, codec: Any) -> list[Any]:
    values = list(rows.account_values(stored, codec))
    del values[_BINDING]
    return values


async def _upgrade_with_accounts(url: str, cipher: TokenCipher) -> None:
    repo = await open_repository(url, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await _check_upgrade(repo)
    finally:
        await repo.close()


async def test_sqlite_upgrade_keeps_accounts(cipher: TokenCipher) -> None:
    await _upgrade_with_accounts("sqlite:///:memory:", cipher)


@pytest.mark.postgres
async def test_postgres_upgrade_keeps_accounts(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _upgrade_with_accounts(postgres_schema_url, cipher)


async def _check_upgrade(repo: SqlRepository) -> None:
    assert await repo.schema_version() == 0
    first_step = migrations.load_steps(repo.dialect)[0]
    assert await repo.apply_step(first_step)
    insert = statements.insert("accounts", OLD_ACCOUNT_COLUMNS, suffix="RETURNING id")
    async with repo.transaction() as db:  # as the first schema's code stored them
        old = [
            await db.fetch_one(insert, *_old_account_values(account(owner, remote), repo._codec))
            for owner, remote in ((ALICE, "r1"), (BOB, "r2"))
        ]
    ids = [row["id"] for row in old if row is not None]

    assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
    stamps = await repo.account_stamps(ids)
    assert set(stamps) == set(ids)
    assert await repo.get_account(ids[0]) == (await repo.get_accounts(ids))[ids[0]]

    await repo.update_tokens(ids[0], TokenSet("test-token-not-real-refreshed"))
    await repo.mark_account_revoked(ids[1])
    changed = await repo.account_stamps(ids)
    assert all(changed[i] != stamps[i] for i in ids)

    await repo.mark_account_revoked(ids[1])  # already revoked: nothing changes
    await repo.save_accounts([])
    assert await repo.account_stamps(ids) == changed
    relinked = await repo.save_accounts([account(BOB, "r2")])  # bulk upsert: a token write
    assert relinked[0].id == ids[1] and not relinked[0].revoked
    assert (await repo.account_stamps(ids))[ids[1]] not in (stamps[ids[1]], changed[ids[1]])


async def _at_step(url: str, cipher: TokenCipher, version: int) -> SqlRepository:
    """A repository on an empty database brought up to step ``version`` only."""
    repo = await open_repository(url, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        for step in migrations.load_steps(repo.dialect)[:version]:
            assert await repo.apply_step(step)
    except BaseException:
        await repo.close()
        raise
    return repo


async def _upgrade_with_absurd_counts(url: str, cipher: TokenCipher, absurd: int) -> None:
    """Accounts stored before counts were clamped, and a campaign LAUNCHING before goal
    decisions were recorded: the upgrade clamps the first and leaves the second to decide."""
    repo = await _at_step(url, cipher, 2)
    try:
        followers = rows.ACCOUNT_COLUMNS.index("followers")
        insert = statements.insert("accounts", OLD_ACCOUNT_COLUMNS, suffix="RETURNING id")
        old_columns = rows.CAMPAIGN_COLUMNS[: rows.CAMPAIGN_COLUMNS.index("launch_decision")]
        insert_campaign = statements.insert("campaigns", old_columns, suffix="RETURNING id")
        launching = campaign(status=CampaignStatus.LAUNCHING)
        async with repo.transaction() as db:  # as the older code could store them
            ids = []
            for owner, remote, count in ((ALICE, "r1", absurd), (BOB, "r2", -7)):
                values = _old_account_values(account(owner, remote), repo._codec)
                values[followers] = count
                row = await db.fetch_one(insert, *values)
                assert row is not None
                ids.append(row["id"])
            values = rows.campaign_values(launching, repo._codec)[: len(old_columns)]
            row = await db.fetch_one(insert_campaign, *values)
            assert row is not None
            campaign_id = row["id"]

        await repo.migrate()
        stored = await repo.get_accounts(ids)
        assert [stored[i].followers for i in ids] == [FOLLOWERS_MAX, 0]
        legacy = await repo.get_campaign(campaign_id)
        assert legacy is not None
        assert (legacy.status, legacy.launch_decision) == (CampaignStatus.LAUNCHING, None)
    finally:
        await repo.close()


async def test_sqlite_upgrade_clamps_follower_counts(cipher: TokenCipher) -> None:
    await _upgrade_with_absurd_counts("sqlite:///:memory:", cipher, 2**63 - 1)


@pytest.mark.postgres
async def test_postgres_upgrade_clamps_follower_counts(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _upgrade_with_absurd_counts(postgres_schema_url, cipher, 2**31 - 1)  # its INTEGER


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest) -> str:
    """An empty database on each back end, for a test to build an old schema in."""
    if request.param == "sqlite":
        return "sqlite:///:memory:"
    return str(request.getfixturevalue("postgres_schema_url"))


OLD_EVENTS = ("milestone:25", "milestone:100", "tap:7", "tap:12", "report", "failure_notices")


async def _upgrade_notes_and_event_names(url: str, cipher: TokenCipher) -> None:
    """Options kept in the notes JSON become columns, and event names counted by prefix
    become a kind and a subject, for the rows stored before step 6."""
    repo = await _at_step(url, cipher, 5)
    try:
        options = rows.CAMPAIGN_COLUMNS.index("late_minutes")
        old_columns = (*rows.CAMPAIGN_COLUMNS[:options], "notes")
        insert_campaign = statements.insert("campaigns", old_columns, suffix="RETURNING id")
        ids = []
        async with repo.transaction() as db:  # as the code of step 5 stored them
            for ref, notes in (
                ("AAAAAA", {"late_minutes": "4", "tap": "1"}),
                ("BBBBBB", {}),
                ("CCCCCC", {"late_minutes": "", "tap": "0", "source": "x"}),
            ):
                values = rows.campaign_values(campaign(ref), repo._codec)[:options]
                row = await db.fetch_one(insert_campaign, *values, repo._codec.json_in(notes))
                assert row is not None
                ids.append(row["id"])
            for name in OLD_EVENTS:
                await db.execute(
                    "INSERT INTO campaign_events (campaign_id, name, claimed_at) "
                    "VALUES ($1, $2, $3)",
                    ids[0],
                    name,
                    repo._codec.time_in(T0),
                )

        await repo.migrate()
        stored = [await repo.get_campaign(i) for i in ids]
        assert [(c.late_minutes, c.tap_offered) for c in stored if c] == [
            (4, True),
            (0, False),
            (0, False),
        ]
        first = ids[0]
        assert await repo.count_events(first, EventKind.MILESTONE) == 2
        assert await repo.event_claimed(first, EventKind.MILESTONE, 100)
        assert await repo.count_events(first, EventKind.TAP_OPENED) == 2
        assert await repo.event_claimed(first, EventKind.TAP_OPENED, 12)
        assert await repo.event_claimed(first, EventKind.REPORT)
        assert await repo.event_claimed(first, EventKind.FAILURE_NOTICES)
        assert not await repo.claim_event(first, EventKind.MILESTONE, T0, subject=25)
        assert not await repo.claim_event(first, EventKind.REPORT, T0)
        assert await repo.claim_event(first, EventKind.TAP_OPENED, T0, subject=13)
        assert not await repo.event_claimed(ids[1], EventKind.REPORT)
    finally:
        await repo.close()


async def test_upgrade_types_notes_and_events(old_database: str, cipher: TokenCipher) -> None:
    await _upgrade_notes_and_event_names(old_database, cipher)


async def test_upgrade_from_step_9_adds_updates_and_mutes(
    old_database: str, cipher: TokenCipher
) -> None:
    repo = await _at_step(old_database, cipher, 9)
    try:
        stored = await store_campaign_as_before(repo, campaign(status=CampaignStatus.LIVE))
        campaign_id = stored.id
        assert campaign_id is not None
        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        before = await repo.get_campaign(campaign_id)
        assert before is not None
        assert await repo.add_update(
            CampaignUpdate(campaign_id, "first", T0), since=T0 - timedelta(hours=24), limit=1
        )
        await repo.set_update_mute(campaign_id, BOB, muted=True, at=T0)
        assert await repo.muted_people(campaign_id) == {BOB.key}
        assert await repo.get_campaign(campaign_id) == before
    finally:
        await repo.close()


async def test_upgrade_gives_older_campaigns_no_origin_promotion(
    old_database: str, cipher: TokenCipher
) -> None:
    """A campaign stored before step 11 keeps its origin chat, is not promoted there on
    approval (it was never offered) and has no chat link for its page."""
    repo = await _at_step(old_database, cipher, 10)
    try:
        older = campaign(status=CampaignStatus.PENDING_REVIEW)
        campaign_id = (await store_campaign_as_before(repo, older)).id
        await repo.migrate()
        stored = await repo.get_campaign(campaign_id)
        assert stored is not None and stored.origin_chat == older.origin_chat
        assert (stored.promote_origin, stored.join_link) == (False, None)
    finally:
        await repo.close()


async def _upgrade_token_binding(url: str, cipher: TokenCipher) -> None:
    """Accounts and queued revocations stored before step 13 bind nothing; afterwards a
    binding is kept, encrypted, with the tokens: on the account, through a token update,
    and into the revocation queue when the tokens are released."""
    repo = await _at_step(url, cipher, 12)
    try:
        insert = statements.insert("accounts", OLD_ACCOUNT_COLUMNS, suffix="RETURNING id")
        async with repo.transaction() as db:
            row = await db.fetch_one(
                insert, *_old_account_values(account(ALICE, "r1"), repo._codec)
            )
            assert row is not None
            await db.execute(
                "INSERT INTO pending_revocations (network, instance, access_token, queued_at) "
                "VALUES ($1, $2, $3, $4)",
                "x",
                "x.com",
                repo._codec.seal("test-token-not-real-queued"),
                repo._codec.time_in(T0),
            )
        old_id = row["id"]

        await repo.migrate()
        old = await repo.get_account(old_id)
        assert old is not None and old.tokens.binding is None
        [queued] = await repo.due_revocations(T0, 10)
        assert queued.tokens.binding is None

        secret = '{"key": "test-binding-not-real"}'
        await repo.update_tokens(old_id, TokenSet("test-token-not-real-2", binding=secret))
        updated = await repo.get_account(old_id)
        assert updated is not None and updated.tokens.binding == secret
        assert "test-binding" not in repr(updated.tokens)
        async with repo.transaction() as db:
            raw = await db.fetch_one("SELECT token_binding FROM accounts WHERE id = $1", old_id)
        assert raw is not None and "test-binding" not in raw["token_binding"]  # encrypted

        bound = account(BOB, "r2")
        saved = await repo.save_account(
            replace(bound, tokens=replace(bound.tokens, binding=secret))
        )
        assert saved.id is not None and saved.tokens.binding == secret
        [released] = await repo.release_tokens([saved.id], T0, unless_in_use=False)
        [pending] = await repo.pending_revocations([released])
        assert pending.tokens.binding == secret
        erased = await repo.get_account(saved.id)
        assert erased is not None and erased.tokens.binding is None
        direct = await repo.queue_revocation(
            bound.network, bound.instance, TokenSet("test-token-not-real-3", binding=secret), T0
        )
        [pending] = await repo.pending_revocations([direct])
        assert pending.tokens.binding == secret
    finally:
        await repo.close()


async def test_upgrade_keeps_token_bindings(old_database: str, cipher: TokenCipher) -> None:
    await _upgrade_token_binding(old_database, cipher)


async def test_upgrade_gives_older_campaigns_and_pledges_the_main_message(
    old_database: str, cipher: TokenCipher
) -> None:
    """Rows stored before step 14 have no variants and post the main message."""
    repo = await _at_step(old_database, cipher, 13)
    try:
        older = await store_campaign_as_before(repo, campaign(), column="variants")
        assert older.id is not None
        linked = await repo.save_account(account(ALICE, "r1"))
        old_columns = rows.PLEDGE_COLUMNS[: rows.PLEDGE_COLUMNS.index("variant")]
        insert = statements.insert("pledges", old_columns, suffix="RETURNING id")
        async with repo.transaction() as db:  # as the code of step 11 stored it
            values = rows.pledge_values(pledge(older.id, linked), repo._codec)
            row = await db.fetch_one(insert, *values[: len(old_columns)])
        assert row is not None

        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        upgraded = await repo.get_campaign(older.id)
        assert upgraded is not None and upgraded.variants == ()
        assert upgraded.text_of(None) == upgraded.message
        stored = await repo.get_pledge(int(row["id"]))
        assert stored is not None and stored.variant is None
        assert stored.text(upgraded) == upgraded.message
        assert await repo.variant_counts(older.id) == {0: 1}
    finally:
        await repo.close()


async def test_upgrade_adds_the_blast_batches(old_database: str, cipher: TokenCipher) -> None:
    """A campaign stored before the shared blast (step 17) can be split into batches."""
    repo = await _at_step(old_database, cipher, 16)
    try:
        older = await store_campaign_as_before(repo, campaign(), column="variants")
        assert older.id is not None
        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        queue = open_blast_queue(repo)
        assert await queue.split(older.id, [1, 2, 3], 2) == 2
        assert await queue.unfinished(older.id) == 2
        await queue.close()
    finally:
        await repo.close()


async def test_upgrade_leaves_older_pledges_without_a_source_chat(
    old_database: str, cipher: TokenCipher
) -> None:
    """Pledges stored before step 18 came from no known chat; newer ones record theirs."""
    repo = await _at_step(old_database, cipher, 17)
    try:
        older = await store_campaign_as_before(repo, campaign(), column="variants")
        assert older.id is not None
        linked = await repo.save_account(account(ALICE, "r1"))
        old_id = await store_pledge_as_before(repo, pledge(older.id, linked), column="source_chat")

        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        stored = await repo.get_pledge(old_id)
        assert stored is not None
        assert (stored.source_chat, stored.source_chat_title) == (None, None)
        other = await repo.save_account(account(BOB, "r2"))
        made = await repo.add_pledge(
            pledge(older.id, other, source_chat="telegram:-100300", source_chat_title="Friends")
        )
        again = await repo.get_pledge(made.id or 0)
        assert again is not None
        assert (again.source_chat, again.source_chat_title) == ("telegram:-100300", "Friends")
    finally:
        await repo.close()


async def test_upgrade_counts_older_reports_as_done(
    old_database: str, cipher: TokenCipher
) -> None:
    """A report claimed before step 19 (claimed whole, at its start) is done: none is
    told again; a campaign not reported yet is not marked done."""
    repo = await _at_step(old_database, cipher, 18)
    try:
        reported = await store_campaign_as_before(repo, campaign(), column="variants")
        waiting = await store_campaign_as_before(repo, campaign("WAIT01"), column="variants")
        assert reported.id is not None and waiting.id is not None
        assert await repo.claim_event(reported.id, EventKind.REPORT, T0)
        assert await repo.claim_event(waiting.id, EventKind.TAP_REMINDER, T0)

        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        assert await repo.event_claimed(reported.id, EventKind.REPORT_DONE)
        assert not await repo.claim_event(reported.id, EventKind.REPORT_DONE, T0)
        assert not await repo.event_claimed(waiting.id, EventKind.REPORT_DONE)
        assert await repo.claim_event(waiting.id, EventKind.REPORT_DONE, T0)
    finally:
        await repo.close()


async def test_upgrade_keeps_older_pledges_recruit_codes_resolving(
    old_database: str, cipher: TokenCipher
) -> None:
    """Pledges stored before step 20 have no stored code: their supporters' codes still
    name them (coded on the first miss), and newer pledges are found by their stored code."""
    repo = await _at_step(old_database, cipher, 19)
    try:
        older = await store_campaign_as_before(repo, campaign(status=CampaignStatus.LIVE))
        assert older.id is not None
        for owner, remote in ((ALICE, "r1"), (BOB, "r2")):
            linked = await repo.save_account(account(owner, remote))
            await store_pledge_as_before(repo, pledge(older.id, linked), column="recruit_code")

        assert await repo.migrate() == len(migrations.load_steps(repo.dialect))
        codes = RecruitCodes(TEST_SECRET, repo)
        bobs = codes.code(older.ref, BOB)
        assert await repo.supporter_by_recruit_code(older.id, bobs) is None  # not yet coded
        assert await codes.recruiter(older, bobs.lower()) == BOB
        assert await codes.recruiter(older, codes.code(older.ref, ALICE)) == ALICE
        assert await repo.pledges_without_recruit_code(older.id, 10) == []
        assert await repo.supporter_by_recruit_code(older.id, bobs) == BOB
        assert await codes.recruiter(older, codes.code("OTHER1", BOB)) is None
    finally:
        await repo.close()
