"""What really lands on disk: encrypted secrets, UTC times, the version table, the URL rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from bot.crypto import TokenCipher
from bot.domain.refs import UserRef
from storage import migrations, open_repository, postgres_target, sqlite_path
from tests.integration.storage.builders import ALICE, T0, account, campaign

SECRETS = (
    "access-r1-test-token-not-real",
    "refresh-r1-test-token-not-real",
    "mastodon-secret-not-real",
    "pkce-verifier-not-real",
)


async def _store_secrets(url: str, cipher: TokenCipher) -> None:
    repo = await open_repository(url, cipher)
    try:
        await repo.save_account(account(ALICE, "r1"))
        await repo.save_mastodon_app(
            "mastodon.example", "client-id", "mastodon-secret-not-real", registered_at=T0
        )
        await repo.save_oauth_state("st", {"verifier": "pkce-verifier-not-real"}, T0)
        await repo.add_campaign(campaign())
    finally:
        await repo.close()


# SQLite -------------------------------------------------------------------------------


async def test_sqlite_file_holds_no_plaintext_secret(tmp_path: Path, cipher: TokenCipher) -> None:
    db_path = tmp_path / "deep" / "folder" / "chorus.db"
    await _store_secrets(f"sqlite:///{db_path}", cipher)
    assert db_path.exists()  # the parent folders were created
    on_disk = b"".join(path.read_bytes() for path in db_path.parent.iterdir())
    for secret in SECRETS:
        assert secret.encode() not in on_disk

    with sqlite3.connect(db_path) as raw:
        access, refresh, linked_at = raw.execute(
            "SELECT access_token, refresh_token, linked_at FROM accounts"
        ).fetchone()
        (client_secret,) = raw.execute("SELECT client_secret FROM mastodon_apps").fetchone()
        versions = raw.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        (journal,) = raw.execute("PRAGMA journal_mode").fetchone()
    assert cipher.decrypt(access) == SECRETS[0]
    assert cipher.decrypt(refresh) == SECRETS[1]
    assert cipher.decrypt(client_secret) == SECRETS[2]
    assert linked_at == "2030-01-15T12:00:00.000000+00:00"
    steps = migrations.load_steps("sqlite")
    assert [v for (v,) in versions] == [step.version for step in steps]
    assert journal == "wal"


async def test_sqlite_file_survives_reopening(tmp_path: Path, cipher: TokenCipher) -> None:
    url = f"sqlite:///{tmp_path}/chorus.db"
    await _store_secrets(url, cipher)
    repo = await open_repository(url, cipher)
    try:
        assert await repo.migrate() == len(migrations.load_steps("sqlite"))
        stored = await repo.accounts_of(ALICE)
        assert [a.tokens.access_token for a in stored] == [SECRETS[0]]
        assert await repo.find_campaign("K7QX2M") is not None
    finally:
        await repo.close()


async def test_relative_sqlite_path(
    tmp_path: Path, cipher: TokenCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    repo = await open_repository("sqlite:///data/chorus.db", cipher)
    await repo.close()
    assert (tmp_path / "data" / "chorus.db").exists()


async def test_another_secret_key_cannot_read_tokens(tmp_path: Path, cipher: TokenCipher) -> None:
    url = f"sqlite:///{tmp_path}/chorus.db"
    await _store_secrets(url, cipher)
    repo = await open_repository(url, TokenCipher("another-test-secret-not-real"))
    try:
        with pytest.raises(ValueError, match="SECRET_KEY"):
            await repo.accounts_of(ALICE)
        assert await repo.accounts_of(UserRef("telegram", "nobody")) == []
    finally:
        await repo.close()


def test_url_parsing() -> None:
    assert sqlite_path("sqlite:///data/chorus.db") == "data/chorus.db"
    assert sqlite_path("sqlite:////var/lib/chorus.db") == "/var/lib/chorus.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    with pytest.raises(ValueError, match="names no file"):
        sqlite_path("sqlite:///")
    with pytest.raises(ValueError, match="looks like"):
        sqlite_path("sqlite://data.db")
    dsn, schema = postgres_target("postgresql://u@h:5432/db?schema=s1&sslmode=disable")
    assert schema == "s1"
    assert parse_qs(urlsplit(dsn).query) == {"sslmode": ["disable"]}
    assert postgres_target("postgres://u@h/db") == ("postgres://u@h/db", None)


async def test_unknown_url_scheme_is_refused(cipher: TokenCipher) -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'"):
        await open_repository("mysql://localhost/chorus", cipher)


# PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
async def test_postgres_rows_hold_no_plaintext_secret(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _store_secrets(postgres_schema_url, cipher)
    dsn, schema = postgres_target(postgres_schema_url)
    raw = await asyncpg.connect(dsn, server_settings={"search_path": schema or ""})
    try:
        dumped = "\n".join(
            [
                str(dict(row))
                for table in ("accounts", "mastodon_apps", "oauth_states", "campaigns")
                for row in await raw.fetch(f"SELECT * FROM {table}")  # our own table names
            ]
        )
        account_row = await raw.fetchrow("SELECT * FROM accounts")
        versions = await raw.fetch("SELECT version FROM schema_version ORDER BY version")
    finally:
        await raw.close()
    for secret in SECRETS:
        assert secret not in dumped
    assert cipher.decrypt(account_row["access_token"]) == SECRETS[0]
    assert account_row["linked_at"] == T0
    steps = migrations.load_steps("postgres")
    assert [row["version"] for row in versions] == [step.version for step in steps]


@pytest.mark.postgres
async def test_postgres_schemas_are_isolated(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _store_secrets(postgres_schema_url, cipher)
    dsn, _ = postgres_target(postgres_schema_url)
    repo = await open_repository(postgres_schema_url, cipher)  # same schema: data is there
    try:
        assert await repo.find_campaign("K7QX2M") is not None
    finally:
        await repo.close()
    other_url = postgres_schema_url.replace("chorus_test_", "chorus_test_other_")
    other_schema = postgres_target(other_url)[1]
    repo = await open_repository(other_url.replace("postgresql://", "postgres://"), cipher)
    try:
        assert await repo.find_campaign("K7QX2M") is None
    finally:
        await repo.close()
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')  # built above
        await admin.close()


async def test_unsafe_schema_name_is_refused(cipher: TokenCipher) -> None:
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        await open_repository('postgresql://u@127.0.0.1:1/db?schema=x";drop', cipher)
