"""A database made by the first schema, with accounts in it, upgrades in place: the accounts
get a change marker (``tokens_version``) that moves on token writes and revocation only."""

from __future__ import annotations

import pytest

from bot.crypto import TokenCipher
from bot.domain.account import TokenSet
from storage import migrations, open_repository, rows, statements
from storage.repository import SqlRepository
from tests.integration.storage.builders import ALICE, BOB, account


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
    insert = statements.insert("accounts", rows.ACCOUNT_COLUMNS, "numeric", suffix="RETURNING id")
    async with repo.transaction() as db:  # as the first schema's code stored them
        old = [
            await db.fetch_one(insert, *rows.account_values(account(owner, remote), repo._codec))
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
