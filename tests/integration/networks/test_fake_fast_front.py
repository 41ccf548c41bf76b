"""The fake Mastodon's benchmark front (bare HTTP/1.1) behaves like its aiohttp one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from adapters.networks.mastodon import MastodonNetwork
from bot.domain.outcomes import OutcomeKind
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.networks.conftest import stored_mastodon_account


@pytest.fixture
async def fast_fake(clock: FakeClock) -> AsyncIterator[FakeMastodon]:
    fake = FakeMastodon(now=clock.now)
    fake.record_requests = False
    await fake.start_fast()
    yield fake
    await fake.close()


async def test_posts_are_idempotent_and_counted(
    mastodon_network: MastodonNetwork, fast_fake: FakeMastodon, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_mastodon_account(repo, fast_fake, clock)

    first = await mastodon_network.post(account, "Hello #river", "key-1")
    again = await mastodon_network.post(account, "Hello #river", "key-1")
    other = await mastodon_network.post(account, "Hello again", "key-2")

    assert first.ok and again.ok and other.ok
    assert first.remote_id == again.remote_id != other.remote_id
    assert first.url and first.url.endswith(f"/@erin/{first.remote_id}")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fast_fake.url}/_fake/stats") as response,
    ):
        stats = await response.json()
    assert stats["posts"] == 2 and stats["requests"] == 3


async def test_refusals_match_the_full_fake(
    mastodon_network: MastodonNetwork, fast_fake: FakeMastodon, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_mastodon_account(repo, fast_fake, clock)
    wrong = replace(account, tokens=replace(account.tokens, access_token="not-a-real-token"))

    revoked = await mastodon_network.post(wrong, "Hello", "k1")
    too_long = await mastodon_network.post(account, "x" * 501, "k2")
    blank = await mastodon_network.post(account, "   ", "k3")

    assert revoked.kind is OutcomeKind.REVOKED
    assert too_long.kind is OutcomeKind.REJECTED and "character limit" in too_long.reason
    assert blank.kind is OutcomeKind.REJECTED and "blank" in blank.reason
    assert fast_fake.posts[account.remote_id] == 0


async def test_garbage_is_answered_400_and_the_connection_closed(
    fast_fake: FakeMastodon,
) -> None:

    reader, writer = await asyncio.open_connection("127.0.0.1", fast_fake.port)
    writer.write(b"NONSENSE\r\n\r\n")
    answer = await reader.read()  # until the fake closes
    writer.close()

    assert answer.startswith(b"HTTP/1.1 400 ")
