"""A running Discord front end against the loopback Discord, on a real SQLite core.

``discord_bot`` starts the fake API and gateway, builds the core with a fake clock and
two networks (so the form shows the network step) and Discord's outbound side, starts the
inbound side through discord.py's real login and gateway handshake, and stops both
afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.inbound import DiscordInbound
from adapters.discord.outbound import DiscordOutbound, new_client
from adapters.networks.mastodon import MASTODON
from adapters.networks.sandbox import SANDBOX, SandboxNetwork
from bot.app import Chorus, build_chorus
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.networks import FakeNetwork, registry_of

# A launch moment an organiser would type: two days after the FakeClock's start.
LAUNCH_TEXT = "2030-01-17 18:00"


def discord_settings(fake: FakeDiscord, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "discord_bot_token": fake.token,
        "discord_api_url": fake.api_url,
        "discord_gateway_url": None,
        "discord_moderation_channel_id": fake.channels["moderation"]["id"],
        "discord_moderator_role_id": fake.moderator_role["id"],
        "public_url": "http://127.0.0.1:8080",
        "min_lead_minutes": 60,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class DiscordHarness:
    fake: FakeDiscord
    core: Chorus
    front: DiscordOutbound
    inbound: DiscordInbound
    clock: FakeClock
    settings: Settings

    async def stop(self) -> None:
        await self.inbound.stop()


def build_bot(
    fake: FakeDiscord,
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    *,
    gateway: bool = True,
) -> DiscordHarness:
    """Wired as ``chorus run`` wires it: outbound side, core, inbound side (not started);
    ``gateway``: whether this process holds the gateway (DISCORD_GATEWAY)."""
    client = new_client(guild_ready_timeout=0.05)
    front = DiscordOutbound(settings, client)
    networks = {
        SANDBOX: SandboxNetwork(clock),
        MASTODON: FakeNetwork(MASTODON, clock, repo),
    }
    core = build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=registry_of(settings, networks),
        front_ends=[front],
        card_delay_seconds=0,
    )
    inbound = DiscordInbound(client, core.chat, ready_timeout=10.0, gateway=gateway)
    return DiscordHarness(fake, core, front, inbound, clock, settings)


async def start_bot(
    fake: FakeDiscord, settings: Settings, repo: Repository, clock: FakeClock
) -> DiscordHarness:
    bot = build_bot(fake, settings, repo, clock)
    await bot.inbound.start()
    return bot


@pytest.fixture
async def discord_bot(
    fake_discord: FakeDiscord, repo: Repository, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[DiscordHarness]:
    bot = await start_bot(fake_discord, discord_settings(fake_discord, tmp_path), repo, clock)
    try:
        yield bot
    finally:
        await bot.stop()
