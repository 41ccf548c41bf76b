"""/stats on Discord through the wire fake: the chart arrives as a real multipart file
attachment (a PNG that decodes) beside the figures, ``export: csv`` a CSV attachment that
parses back; a moderator may look, a stranger may not."""

from __future__ import annotations

import csv
import io

from PIL import Image

from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_commands import live_campaign_with_pledge


async def test_the_organiser_gets_the_chart_as_an_attachment(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    ref = await live_campaign_with_pledge(discord_bot)

    answer = await fake.reply_to(await fake.slash("organiser", "stats", ref=ref.lower()))

    assert answer["flags"] & EPHEMERAL
    text = fake.text_of(answer)
    assert f"Figures of “Clean rivers now” ({ref})" in text
    assert "1 supporter, 1 pledged account(s)." in text
    assert "• mastodon: 1 / 0" in text
    assert "• discord chat: 1" in text
    (attachment,) = answer["attachments"]
    assert attachment["filename"] == f"chorus-{ref}.png"
    assert attachment["content_type"] == "image/png"
    image = Image.open(io.BytesIO(fake.uploads[attachment["id"]]))
    assert (image.format, image.size, image.mode) == ("PNG", (640, 360), "RGB")


async def test_csv_export_is_an_attachment_that_parses_back(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    ref = await live_campaign_with_pledge(discord_bot)

    answer = await fake.reply_to(await fake.slash("organiser", "stats", ref=ref, export="csv"))

    (attachment,) = answer["attachments"]
    assert attachment["filename"] == f"chorus-{ref}.csv"
    raw = fake.uploads[attachment["id"]].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert [(r["network"], r["source"], r["status"], r["reach"]) for r in rows] == [
        ("mastodon", "discord", "pledged", "50")
    ]
    assert "sam" not in raw and fake.people["supporter"].id not in raw


async def test_a_moderator_may_look_a_stranger_may_not(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    ref = await live_campaign_with_pledge(discord_bot)

    refused = await fake.reply_to(await fake.slash("outsider", "stats", ref=ref))
    assert f"Campaign {ref} is not yours" in fake.text_of(refused)
    assert refused.get("attachments") in (None, [])
    missing = await fake.reply_to(await fake.slash("organiser", "stats", ref="ZZZZZZ"))
    assert "ZZZZZZ" in fake.text_of(missing)

    looked = await fake.reply_to(await fake.slash("moderator", "stats", ref=ref))
    (attachment,) = looked["attachments"]
    assert attachment["filename"].endswith(".png")
