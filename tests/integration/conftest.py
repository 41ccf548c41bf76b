"""Fixtures of the integration tier: real PostgreSQL next to SQLite.

``any_repo`` runs a test once on SQLite and once on PostgreSQL, the latter in its own
throw-away schema; when the server cannot be reached the PostgreSQL run is skipped with the
reason, except under ``CI=true`` where that is a failure. Only this tier imports the
PostgreSQL driver.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from bot.crypto import TokenCipher
from bot.ports import Repository
from storage import open_repository

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"schema": schema})))


async def _postgres_admin() -> asyncpg.Connection:
    """A plain connection to the test server, or a skip (a failure under CI=true)."""
    try:
        return await asyncpg.connect(postgres_url(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        where = urlsplit(postgres_url())  # host and port only: never print a password
        reason = f"PostgreSQL at {where.hostname}:{where.port} unreachable: {exc!r}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def postgres_schema_url() -> AsyncIterator[str]:
    """The test server's URL with ``?schema=`` naming a fresh schema, dropped afterwards."""
    admin = await _postgres_admin()
    schema = f"chorus_test_{uuid.uuid4().hex[:16]}"
    try:
        yield with_schema(postgres_url(), schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_repo(
    request: pytest.FixtureRequest, cipher: TokenCipher
) -> AsyncIterator[Repository]:
    """A migrated repository, once per back end (PostgreSQL in a throw-away schema)."""
    if request.param == "sqlite":
        repository = await open_repository("sqlite:///:memory:", cipher)
        try:
            yield repository
        finally:
            await repository.close()
        return
    admin = await _postgres_admin()
    schema = f"chorus_test_{uuid.uuid4().hex[:16]}"
    try:
        repository = await open_repository(with_schema(postgres_url(), schema), cipher)
        try:
            yield repository
        finally:
            await repository.close()
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()
