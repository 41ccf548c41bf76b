"""Several processes, one Discord gateway: only the process that holds it connects
(DISCORD_GATEWAY=on, or auto in the leading process); the others only log in, and still
post cards and send direct messages through discord.py's REST client. Buttons pressed on
a message another process sent reach the gateway holder, which answers them from the
shared database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.networks.sandbox import SANDBOX
from bot.dialog import CampaignDraft
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import ChatRef, UserRef
from bot.ports import Repository
from bot.runtime import chat_platforms
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import DiscordHarness, build_bot, discord_settings


@pytest.fixture
async def sender(
    discord_bot: DiscordHarness, repo: Repository, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[DiscordHarness]:
    """A second process on the same database, configured with DISCORD_GATEWAY=off."""
    fake = discord_bot.fake
    settings = discord_settings(fake, tmp_path / "second", discord_gateway="off")
    (platform,) = chat_platforms(settings, succession=True)
    assert platform.leader_duties == {}  # off: not even a leader holds it
    bot = build_bot(fake, settings, repo, clock, gateway=False)
    await bot.inbound.start()
    try:
        yield bot
    finally:
        await bot.stop()


def draft(clock: FakeClock, title: str) -> CampaignDraft:
    return CampaignDraft(
        title=title,
        message="Safer streets now #bikelanes",
        goal=0,
        launch_at=clock.now() + timedelta(days=3),
        networks=(SANDBOX,),
    )


async def test_only_the_gateway_holder_connects_and_the_other_sends_by_rest(
    discord_bot: DiscordHarness, sender: DiscordHarness, clock: FakeClock
) -> None:
    fake = discord_bot.fake
    assert fake.identified == 1  # the holder's session only
    assert len(fake._sockets) == 1
    organiser = UserRef("discord", fake.people["organiser"].id, "Organiser", "en")

    # the sending process posts the moderation card (REST, no gateway) ...
    campaign = await sender.core.campaigns.submit(
        draft(sender.clock, "Bike lanes for all"), organiser, ChatRef("discord", "1")
    )
    cards = await fake.wait_for(lambda: fake.channel_messages("moderation"), what="mod card")
    assert "Bike lanes for all" in fake.text_of(cards[-1])

    # ... and the moderator's press on it reaches the gateway holder, which approves it
    approve = await fake.press("moderator", cards[-1]["id"], f"chorus:approve:{campaign.id}")
    assert "approved" in fake.text_of(await fake.reply_to(approve))
    approved = await sender.core.campaigns.get(campaign.ref)
    assert approved.status is CampaignStatus.LIVE

    # a direct message from the sending process: the organiser learns of a rejection
    second = await sender.core.campaigns.submit(
        draft(sender.clock, "Quiet streets"), organiser, ChatRef("discord", "1")
    )
    moderator = UserRef("discord", fake.people["moderator"].id, "Moderator", "en")
    await sender.core.moderation.reject(second.id, moderator, "Too vague.", may_moderate=True)
    dms = await fake.wait_for(lambda: fake.dm_messages("organiser"), what="organiser DM")
    assert "Too vague." in dms[-1]["content"]
    assert fake.identified == 1 and len(fake._sockets) == 1


@pytest.mark.parametrize(
    ("value", "succession", "duty", "held_for_life"),
    [
        ("auto", True, True, False),
        ("auto", False, False, True),  # one process that always leads (the benchmarks)
        ("on", True, False, True),
        ("on", False, False, True),
        ("off", True, False, False),
        ("off", False, False, False),
    ],
)
def test_who_holds_the_gateway(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    value: str,
    succession: bool,
    duty: bool,
    held_for_life: bool,
) -> None:
    """auto: the leader's duty under a Succession; on: this process, leading or not; off:
    never."""
    settings: Settings = discord_settings(fake_discord, tmp_path, discord_gateway=value)
    (platform,) = chat_platforms(settings, succession=succession)
    assert ("discord gateway" in platform.leader_duties) is duty
    assert platform.inbound.keywords["gateway"] is held_for_life  # type: ignore[attr-defined]
