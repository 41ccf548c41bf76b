"""The chat front ends' leader duties follow the leadership on the real PostgreSQL.

Two "processes" (two cores, each wired by ``chat_platforms`` as ``chorus run`` wires it, each
with its own claim on one schema) talk to two loopback fakes of the same bot, so what each
one asks of Telegram or Discord is told apart. Only the leader polls Telegram (which
refuses two pollers) or holds the Discord gateway (one session per shard); the follower
only sends. When the leader's database session is killed it steps down at once, its
polling stops and its gateway closes; the follower takes over and polls, or connects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.app import Chorus, build_chorus
from bot.crypto import TokenCipher
from bot.role import Role
from bot.runtime import ChatPlatform, Inbound, chat_platforms, leader_duties
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_leadership, open_repository, postgres_target
from storage.leadership import LEADER_LOCK
from tests.conftest import TEST_SECRET
from tests.fakes import telegram_builders as tb
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi
from tests.integration.conftest import postgres_url
from tests.integration.discord.conftest import discord_settings

pytestmark = pytest.mark.postgres
POLL = 0.2  # LEADER_POLL_SECONDS
GUARD = 20.0  # seconds before a stuck wait fails the test (a guard, not a speed check)
ORGANISER = tb.user(8101, "Olga")


@dataclass
class Process:
    core: Chorus
    platform: ChatPlatform
    inbound: Inbound

    @property
    def role(self) -> Role:
        return self.core.succession.role

    async def stop(self) -> None:
        await self.core.succession.stop()
        await self.inbound.stop()


@pytest.fixture
async def processes(postgres_schema_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Starts a process on the shared schema for given settings; stops them all after."""
    repo = await open_repository(postgres_schema_url, TokenCipher(TEST_SECRET))
    await repo.migrate()
    started: list[Process] = []

    async def start(settings: Settings) -> Process:
        (platform,) = chat_platforms(settings, succession=True)
        core = build_chorus(
            settings,
            repo,
            FakeClock(),
            secret=TEST_SECRET,
            front_ends=[platform.outbound],
            card_delay_seconds=0,
            leadership=open_leadership(postgres_schema_url, poll_seconds=POLL),
            duties=leader_duties([platform]),
        )
        inbound = platform.inbound(core.chat)
        await inbound.start()
        process = Process(core, platform, inbound)
        started.append(process)
        await core.succession.start()
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            await process.stop()
        await repo.close()


async def until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def kill_leader_session(schema_url: str) -> None:
    """The server ends the leader's session, as when its link to the database is cut."""
    _, schema = postgres_target(schema_url)
    admin = await asyncpg.connect(postgres_url())
    try:
        pid = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid = $1::bigint::oid AND objid = hashtext($2)::oid",
            LEADER_LOCK,
            schema,
        )
        assert pid is not None, "no process leads"
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


# --- Telegram ---------------------------------------------------------------------------


@pytest.fixture
async def telegrams() -> AsyncIterator[tuple[FakeTelegramApi, FakeTelegramApi]]:
    first, second = FakeTelegramApi(), FakeTelegramApi()
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def telegram_settings(api: FakeTelegramApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": FAKE_TOKEN,
        "telegram_api_url": api.url,
        "telegram_moderation_chat_id": "-100200",
        "public_url": "http://127.0.0.1:8080",
        "min_lead_minutes": 60,
        "leader_poll_seconds": POLL,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


async def test_only_the_leader_polls_and_its_polling_stops_when_it_steps_down(
    processes: Callable[..., Any],
    telegrams: tuple[FakeTelegramApi, FakeTelegramApi],
    postgres_schema_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.telegram.inbound")
    first_api, second_api = telegrams
    first = await processes(telegram_settings(first_api))
    second = await processes(telegram_settings(second_api))
    assert (first.role, second.role) == (Role.LEADER, Role.FOLLOWER)
    await first_api.wait_for("getUpdates", within=GUARD)
    assert first_api.find("setMyCommands")  # the leader publishes the command menu

    await asyncio.sleep(5 * POLL)  # the follower tried to lead a few times
    asked = {call.method for call in second_api.calls}
    assert asked == {"getMe"}, asked  # no getUpdates, no setWebhook, no command menu

    await kill_leader_session(postgres_schema_url)
    await until(lambda: second.role is Role.LEADER, "the follower to take over")
    await until(lambda: first.role is Role.FOLLOWER, "the old leader to step down")
    await until(lambda: "long polling stopped" in caplog.text, "the old leader's polling to stop")
    since = first_api.mark()

    # the new leader polls: what is said reaches it, and it answers
    second_api.say(ORGANISER, tb.private_chat(ORGANISER), "/help")
    answer = await second_api.wait_for(
        "sendMessage", lambda c: c.chat_id == ORGANISER["id"], within=GUARD
    )
    assert "/newcampaign" in answer.text
    assert second_api.find("setMyCommands")
    await asyncio.sleep(5 * POLL)
    assert first_api.find("getUpdates", since=since) == []  # the old leader polls no more


async def test_only_the_leader_sets_the_webhook_and_the_next_one_sets_it_again(
    processes: Callable[..., Any],
    telegrams: tuple[FakeTelegramApi, FakeTelegramApi],
    postgres_schema_url: str,
) -> None:
    first_api, second_api = telegrams
    hook = {"telegram_webhook": True, "telegram_webhook_secret": "hook-secret-not-real-4Rt8"}
    first = await processes(telegram_settings(first_api, **hook))
    second = await processes(telegram_settings(second_api, **hook))
    assert (first.role, second.role) == (Role.LEADER, Role.FOLLOWER)
    assert len(first_api.find("setWebhook")) == 1
    await asyncio.sleep(5 * POLL)
    assert {call.method for call in second_api.calls} == {"getMe"}

    await kill_leader_session(postgres_schema_url)
    await until(lambda: second.role is Role.LEADER, "the follower to take over")
    set_again = await second_api.wait_for("setWebhook", within=GUARD)
    assert set_again.params["url"] == first_api.find("setWebhook")[0].params["url"]
    assert len(first_api.find("setWebhook")) == 1  # stepping down leaves the webhook alone
    assert first_api.find("deleteWebhook") == [] and first_api.find("getUpdates") == []


# --- Discord ----------------------------------------------------------------------------


@pytest.fixture
async def second_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def open_sockets(fake: FakeDiscord) -> int:
    return sum(1 for ws in fake._sockets if not ws.closed)


async def test_the_leader_holds_the_gateway_and_the_next_leader_connects_again(
    processes: Callable[..., Any],
    fake_discord: FakeDiscord,
    second_discord: FakeDiscord,
    postgres_schema_url: str,
    tmp_path: Path,
) -> None:
    fakes = (fake_discord, second_discord)
    first = await processes(
        discord_settings(fake_discord, tmp_path / "a", leader_poll_seconds=POLL)
    )
    second = await processes(
        discord_settings(second_discord, tmp_path / "b", leader_poll_seconds=POLL)
    )
    assert (first.role, second.role) == (Role.LEADER, Role.FOLLOWER)
    assert fake_discord.identified == 1 and open_sockets(fake_discord) == 1
    await asyncio.sleep(5 * POLL)
    assert second_discord.identified == 0 and second_discord._sockets == []

    await kill_leader_session(postgres_schema_url)
    await until(lambda: second.role is Role.LEADER, "the follower to take over")
    await second_discord.wait_for(lambda: open_sockets(second_discord), what="the new gateway")
    await fake_discord.wait_for(lambda: not open_sockets(fake_discord), what="the old one shut")
    answer = await second_discord.reply_to(await second_discord.slash("organiser", "mycampaigns"))
    assert answer

    # the same client connects again when its process leads again (a new session)
    await kill_leader_session(postgres_schema_url)
    await until(
        lambda: sum(fake.identified for fake in fakes) == 3, "a leader to connect once more"
    )
    await until(lambda: sum(open_sockets(fake) for fake in fakes) == 1, "one gateway open")
    holder = next(fake for fake in fakes if open_sockets(fake))
    assert await holder.reply_to(await holder.slash("organiser", "mycampaigns"))
