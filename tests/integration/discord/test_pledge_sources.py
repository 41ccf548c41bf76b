"""Where supporters came from, through the Discord wire fake: Support pressed under a
card carries that channel into the pledge link, the pledge records it and /stats counts
it by chat (with the channel's name); a press claiming a channel where the campaign has
no card leaves the source unknown."""

from __future__ import annotations

import csv
import io

from tests.fakes import discord_builders as b
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_commands import live_campaign_with_pledge


async def test_a_pledge_from_a_channel_records_it_and_stats_show_it(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    general = fake.channels["general"]["id"]

    campaign = await core.campaigns.get(ref)
    (pledge,) = await core.repo.pledges_of_campaign(campaign.id or 0)
    assert (pledge.source_chat, pledge.source_chat_title) == (f"discord:{general}", "general")

    answer = await fake.reply_to(await fake.slash("organiser", "stats", ref=ref))
    text = fake.text_of(answer)
    assert "By chat whose card they pressed:" in text
    assert "• general (discord): 1" in text

    exported = await fake.reply_to(await fake.slash("organiser", "stats", ref=ref, export="csv"))
    (attachment,) = exported["attachments"]
    raw = fake.uploads[attachment["id"]].decode("utf-8-sig")
    assert [r["chat"] for r in csv.DictReader(io.StringIO(raw))] == ["general"]


async def test_a_press_from_a_channel_without_the_card_has_no_source(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    wanted = f"chorus:support:{ref}"
    (public,) = [
        m
        for m in fake.channel_messages("general")
        if wanted in [c.get("custom_id") for c in fake.buttons(m)]
    ]
    elsewhere = fake.context("outsider", "moderation")
    forged = b.button_press(wanted, public, **elsewhere)
    answer = await fake.reply_to(await fake.inject(forged))
    url = fake.buttons(answer)[0]["url"]
    ticket = core.links.read(url.rsplit("/", 1)[1])
    assert (ticket.source_chat, ticket.source_chat_title) == (None, None)
