"""Discord's platform rules: rate limits, restarts, command sync, start-up failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord.inbound import DiscordStartError
from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.testing.clock import FakeClock
from storage import open_repository
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import (
    DiscordHarness,
    discord_settings,
    start_bot,
)
from tests.integration.discord.test_campaign_loop import create_campaign, custom_ids


async def test_a_429_is_waited_out_and_the_message_still_goes(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))

    fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.05)
    answer = await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    assert "now posted" in fake.text_of(answer)
    general = fake.channels["general"]["id"]
    statuses = [c.status for c in fake.calls_to("POST", rf"/channels/{general}/messages")]
    assert statuses == [429, 200]
    assert len(fake.channel_messages("general")) == 1


async def test_a_global_429_on_a_private_message_is_waited_out(
    discord_bot: DiscordHarness,
) -> None:
    fake, front = discord_bot.fake, discord_bot.front
    fake.rate_limit("POST", r"/users/@me/channels", retry_after=0.05, is_global=True)
    supporter = UserRef("discord", fake.people["supporter"].id, "Supporter", "en")
    await front.send_to_user(supporter, OutgoingMessage.of(t("discord.help.text")))
    assert [c.status for c in fake.calls_to("POST", r"/users/@me/channels")] == [429, 200]
    assert "Chorus gathers supporters" in fake.dm_messages("supporter")[0]["content"]


async def test_buttons_keep_working_after_a_restart(
    fake_discord: FakeDiscord, clock: FakeClock, cipher: TokenCipher, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    settings = discord_settings(fake_discord, tmp_path)

    repo = await open_repository(url, cipher)
    harness = await start_bot(fake_discord, settings, repo, clock)
    try:
        card = await create_campaign(harness)
    finally:
        await harness.stop()
        await repo.close()
    assert len(fake_discord.calls_to("PUT", r"/applications/\d+/commands")) == 1

    # a new process: new database connection, new client, same Discord and data folder
    repo = await open_repository(url, cipher)
    restarted = await start_bot(fake_discord, settings, repo, clock)
    try:
        assert fake_discord.identified == 2
        # the commands did not change, so they were not synced again
        assert len(fake_discord.calls_to("PUT", r"/applications/\d+/commands")) == 1
        (button,) = [i for i in custom_ids(card) if i.startswith("chorus:approve:")]
        answer = await fake_discord.reply_to(
            await fake_discord.press("moderator", card["id"], button)
        )
        assert "approved" in fake_discord.text_of(answer)
        organiser = UserRef("discord", fake_discord.people["organiser"].id)
        (campaign,) = await repo.campaigns_of(organiser)
        assert campaign.status is CampaignStatus.LIVE
        await fake_discord.wait_for(
            lambda: not fake_discord.buttons(fake_discord.messages[card["id"]]),
            what="card edit after restart",
        )
    finally:
        await restarted.stop()
        await repo.close()


async def test_changed_commands_are_synced_again(
    discord_bot: DiscordHarness, tmp_path: Path
) -> None:
    fake = discord_bot.fake
    (tmp_path / "discord-commands.sha256").write_text("an older command set\n")
    await discord_bot.stop()
    # a new process (a stopped discord.py client cannot connect again)
    restarted = await start_bot(
        fake, discord_bot.settings, discord_bot.core.repo, discord_bot.clock
    )
    await restarted.stop()
    assert len(fake.calls_to("PUT", r"/applications/\d+/commands")) == 2


async def test_a_stopped_front_end_says_it_cannot_start_again(
    discord_bot: DiscordHarness,
) -> None:
    await discord_bot.stop()
    with pytest.raises(DiscordStartError, match="was stopped; a restart builds a new one"):
        await discord_bot.inbound.start()


async def test_command_descriptions_are_localized(discord_bot: DiscordHarness) -> None:
    commands = {c["name"]: c for c in discord_bot.fake.commands}
    assert set(commands) == {
        "newcampaign",
        "mycampaigns",
        "cancelcampaign",
        "update",
        "promote",
        "pending",
        "mypledges",
        "unpledge",
        "forget",
        "status",
        "help",
        "campaignpicture",
        "setinvite",
        "stats",
        "editcampaign",
        "resubmit",
    }
    newcampaign = commands["newcampaign"]
    assert newcampaign["description"].startswith("Create a campaign")
    assert newcampaign["description_localizations"]["fr"].startswith("Créer une campagne")
    (ref,) = commands["promote"]["options"]
    assert ref["description_localizations"]["fr"].startswith("La référence")
    assert commands["promote"]["contexts"] == [0]
    ref, url = commands["setinvite"]["options"]
    assert (ref["name"], url["name"]) == ("ref", "url")
    assert url["description_localizations"]["fr"].startswith("Un lien d'invitation")
    ref, export = commands["stats"]["options"]
    assert (ref["name"], export["name"], export["required"]) == ("ref", "export", False)
    assert export["choices"][0]["name_localizations"]["fr"] == "Fichier CSV"
    ref, field, value = commands["editcampaign"]["options"]
    assert [c["value"] for c in field["choices"]] == ["title", "message", "goal", "launch"]
    assert (ref["required"], field.get("required", False), value.get("required", False)) == (
        True,
        False,
        False,
    )


async def test_start_fails_clearly_on_a_wrong_token(
    fake_discord: FakeDiscord, repo, clock: FakeClock, tmp_path: Path
) -> None:
    settings = discord_settings(fake_discord, tmp_path, discord_bot_token="wrong-token-not-real")
    with pytest.raises(DiscordStartError, match="refused DISCORD_BOT_TOKEN"):
        await start_bot(fake_discord, settings, repo, clock)


async def test_the_gateway_setting_wins_over_the_gateway_bot_answer(
    fake_discord: FakeDiscord, repo, clock: FakeClock, tmp_path: Path
) -> None:
    fake_discord.gateway_url_override = "ws://127.0.0.1:9/nowhere"  # would never connect
    settings = discord_settings(
        fake_discord, tmp_path, discord_gateway_url=fake_discord.gateway_url
    )
    bot = await start_bot(fake_discord, settings, repo, clock)
    try:
        assert fake_discord.identified == 1
        assert fake_discord.calls_to("GET", r"/gateway/bot") == []
    finally:
        await bot.stop()


async def test_interactions_are_acknowledged_before_the_work_is_done(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    approve = await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}")
    await fake.reply_to(approve)
    promote = await fake.slash("organiser", "promote", ref=campaign.ref)
    await fake.reply_to(promote)

    def index(method: str, pattern: str) -> int:
        return next(i for i, c in enumerate(fake.calls) if c.matches(method, pattern))

    for payload, work in (
        (approve, rf"/channels/\d+/messages/{card['id']}"),
        (promote, rf"/channels/{fake.channels['general']['id']}/messages"),
    ):
        ack = index("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
        assert fake.calls[ack].body == {"type": 5, "data": {"flags": 64}}  # ephemeral "thinking"
        method = "PATCH" if "messages/" in work else "POST"
        assert ack < index(method, work)
        assert fake.acknowledged(payload)
