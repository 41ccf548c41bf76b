"""Post now on Discord: the real front end over the loopback Discord at a tap launch.

A member with closed DMs (50007 on every DM) gets their link from the card in an
ephemeral reply only they see; a member who pledged nothing gets a clear answer; the
report counts the unreachable apart.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.discord.inbound import DiscordInbound
from adapters.discord.outbound import DiscordOutbound, new_client
from adapters.networks.x import X
from bot.domain.cards import CardKind, PostedCard
from bot.domain.events import EventKind
from bot.domain.refs import ChatRef, UserRef
from bot.ports import Repository
from bot.services.cards import campaign_card
from bot.testing.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import discord_settings
from tests.unit.blast.harness import make_world

EPHEMERAL = 1 << 6


async def test_post_now_gives_a_member_with_closed_dms_their_link_in_an_ephemeral_reply(
    repo: Repository, clock: FakeClock, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    overrides = discord_settings(fake, tmp_path).model_dump(
        include={"discord_bot_token", "discord_api_url", "discord_gateway_url"}
    )
    world_settings = discord_settings(fake, tmp_path)
    client = new_client(guild_ready_timeout=0.05)
    outbound = DiscordOutbound(world_settings, client)
    world = await make_world(repo, clock, front_ends=[outbound], **overrides)
    inbound = DiscordInbound(client, world.core.chat, ready_timeout=10.0)
    await inbound.start()
    try:
        supporter = fake.people["supporter"]
        person = UserRef("discord", supporter.id, "Supporter", "en")
        organiser = UserRef("discord", fake.people["organiser"].id, "Organiser", "en")
        campaign = await world.campaign(networks=(X,), organiser=organiser, promote=False)
        assert campaign.id is not None
        pledge, _ = await world.supporter(campaign, network=X, followers=12, person=person)
        stats = await repo.campaign_stats(campaign.id)
        general = ChatRef("discord", fake.channels["general"]["id"])
        posted = await outbound.send(general, campaign_card(campaign, stats), "en")
        await repo.add_card(PostedCard(campaign.id, CardKind.PROMOTION, posted, clock.now(), "en"))
        fake.closed_dms.add(supporter.id)

        await world.go(campaign.launch_at)
        await world.core.cards.flush()
        assert fake.dm_messages("supporter") == []  # refused with 50007
        assert await repo.event_claimed(campaign.id, EventKind.TAP_UNREACHABLE, pledge.id)
        card = fake.messages[posted.id]
        (button,) = fake.buttons(card)
        assert button["custom_id"] == f"chorus:postnow:{campaign.ref}"
        assert button["label"] == "📤 Post now"

        pressed = await fake.press("supporter", posted.id, f"chorus:postnow:{campaign.ref}")
        answer = await fake.reply_to(pressed)
        assert int(answer.get("flags", 0)) & EPHEMERAL
        link = world.core.tap_links.url(campaign, pledge)
        assert [b.get("url") for b in fake.buttons(answer)] == [link]
        assert "launching now" in fake.text_of(answer)

        # someone who pledged nothing
        stranger = await fake.press("outsider", posted.id, f"chorus:postnow:{campaign.ref}")
        refusal = await fake.reply_to(stranger)
        assert "for the supporters of" in fake.text_of(refusal)
        assert fake.buttons(refusal) == []

        await world.go(campaign.launch_at + timedelta(minutes=120))
        await world.core.cards.flush()
        report = "\n".join(fake.text_of(m) for m in fake.channel_messages("general"))
        assert "Could not be written to privately (and did not post): 1" in report
        assert "got their link from the card: 1" in report
        assert fake.buttons(fake.messages[posted.id]) == []  # the report closed Post now
    finally:
        await inbound.stop()
