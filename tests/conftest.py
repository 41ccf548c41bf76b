"""Fixtures every test tier shares: a fake clock, a token cipher, an SQLite repository.

``repo`` is a migrated in-memory SQLite repository (its driver loads when a test asks for
it). The PostgreSQL fixtures live with the tier that uses them (``tests/integration``), so
collecting the unit tier imports no database driver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.crypto import TokenCipher
from bot.ports import Repository
from bot.testing.clock import FakeClock
from storage import open_repository
from tests.fakes.discord_api import FakeDiscord

TEST_SECRET = "test-secret-not-real-0123456789abcdef"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(TEST_SECRET)


@pytest.fixture
async def repo(cipher: TokenCipher) -> AsyncIterator[Repository]:
    repository = await open_repository("sqlite:///:memory:", cipher)
    try:
        yield repository
    finally:
        await repository.close()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """The loopback Discord API and gateway (the Discord tests and the DEBUG-logs e2e)."""
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
