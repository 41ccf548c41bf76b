"""Start-up: login, command sync, gateway handshake."""

from __future__ import annotations

from tests.integration.discord.conftest import DiscordHarness


async def test_start_logs_in_syncs_and_connects(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    assert fake.identified == 1
    assert {c["name"] for c in fake.commands} >= {"newcampaign", "promote", "help"}
