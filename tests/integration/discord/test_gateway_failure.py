"""The Discord gateway says when its connection stopped for good: discord.py reconnects by
itself after a drop Discord allows it to resume, and gives up on a close that says the
token or the intents are wrong. The leader's succession reads ``failure()`` at each turn
(tests/unit/test_leadership.py) so a dead gateway is logged and started again rather than
left silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.discord.inbound import DiscordGateway
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import DiscordHarness, build_bot, discord_settings

GUARD = 15.0  # seconds before a stuck wait fails the test (a guard, not a speed check)


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(GUARD):
        while not condition():  # noqa: ASYNC110 - the state lives in discord.py's tasks
            await asyncio.sleep(0.02)


@pytest.fixture
async def connected(
    fake_discord: FakeDiscord, repo: Repository, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[tuple[DiscordHarness, DiscordGateway]]:
    """Logged in (REST), then the gateway connected as the leader's duty connects it."""
    settings = discord_settings(fake_discord, tmp_path)
    bot = build_bot(fake_discord, settings, repo, clock, gateway=False)
    await bot.inbound.start()
    gateway = DiscordGateway(bot.inbound.client, settings, ready_timeout=10.0)
    await gateway.start()
    try:
        yield bot, gateway
    finally:
        await gateway.stop()
        await bot.stop()


async def close_sockets(fake: FakeDiscord, code: int, message: bytes) -> None:
    for ws in list(fake._sockets):
        await ws.close(code=code, message=message)


async def test_a_resumable_drop_is_resumed_and_not_reported(
    connected: tuple[DiscordHarness, DiscordGateway], fake_discord: FakeDiscord
) -> None:
    _, gateway = connected
    assert gateway.failure() is None and fake_discord.identified == 1
    await close_sockets(fake_discord, 4000, b"Unknown error.")
    await eventually(lambda: len(fake_discord._sockets) == 1 and gateway.client.is_ready())
    await asyncio.sleep(0.2)  # the new connection settles
    assert gateway.failure() is None


async def test_a_close_that_refuses_the_token_is_reported(
    connected: tuple[DiscordHarness, DiscordGateway], fake_discord: FakeDiscord
) -> None:
    _, gateway = connected
    assert gateway.failure() is None
    await close_sockets(fake_discord, 4004, b"Authentication failed.")
    await eventually(lambda: gateway.failure() is not None)
    why = gateway.failure()
    assert why is not None and "ConnectionClosed" in why and "4004" in why
