"""Organiser updates on Discord through the wire fake: ``/update`` reaches every supporter
by DM with a Mute button, a muted supporter gets nothing more, the organiser gets the
count, and a stranger is refused."""

from __future__ import annotations

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_commands import live_campaign_with_pledge


async def test_update_reaches_supporters_and_a_muted_one_gets_nothing(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    quiet = UserRef("discord", fake.people["outsider"].id, "Outsider", "en")
    profile = LinkedProfile(
        MASTODON, "mastodon.example", "77", "quiet", 10, TokenSet("test-token-not-real")
    )
    await core.pledges.record(core.links.read(core.links.issue(ref, quiet)), profile)

    refused = await fake.reply_to(await fake.slash("moderator", "update", ref=ref, text="Hi"))
    assert f"Campaign {ref} is not yours" in fake.text_of(refused)

    first = await fake.reply_to(
        await fake.slash("organiser", "update", ref=ref, text="We passed *50*! @everyone")
    )
    assert first["flags"] & EPHEMERAL
    assert "reached 2 of 2 supporters (0 muted, 0 unreachable)" in fake.text_of(first)
    for person in ("supporter", "outsider"):
        (dm,) = [m for m in fake.dm_messages(person) if "We passed" in m["content"]]
        assert "We passed *50*! @everyone" in dm["content"]
        assert "Update from the organiser of “Clean rivers now”" in dm["content"]
        assert [c["custom_id"] for c in fake.buttons(dm)] == [f"chorus:mute:{ref}"]

    (to_mute,) = [m for m in fake.dm_messages("outsider") if "We passed" in m["content"]]
    muted = await fake.reply_to(await fake.press("outsider", to_mute["id"], f"chorus:mute:{ref}"))
    assert "You will get no more updates" in fake.text_of(muted)
    assert [c["custom_id"] for c in fake.buttons(muted)] == [f"chorus:unmute:{ref}"]
    assert await core.repo.muted_people((await core.campaigns.get(ref)).id or 0) == {quiet.key}

    second = await fake.reply_to(
        await fake.slash("organiser", "update", ref=ref, text="Second news")
    )
    assert "reached 1 of 2 supporters (1 muted, 0 unreachable)" in fake.text_of(second)
    assert any("Second news" in m["content"] for m in fake.dm_messages("supporter"))
    assert not any("Second news" in m["content"] for m in fake.dm_messages("outsider"))

    unmuted = await fake.reply_to(
        await fake.press("outsider", muted["id"], f"chorus:unmute:{ref}")
    )
    assert "again" in fake.text_of(unmuted)
    third = await fake.reply_to(await fake.slash("organiser", "update", ref=ref, text="Third"))
    assert "reached 2 of 2 supporters" in fake.text_of(third)
    limited = await fake.reply_to(await fake.slash("organiser", "update", ref=ref, text="4th"))
    assert "can send 3 updates in 24 hours" in fake.text_of(limited)


async def test_update_refuses_empty_and_long_texts(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    ref = await live_campaign_with_pledge(discord_bot)
    empty = await fake.reply_to(await fake.slash("organiser", "update", ref=ref, text="   "))
    assert "The update is empty" in fake.text_of(empty)
    long = await fake.reply_to(await fake.slash("organiser", "update", ref=ref, text="x" * 1001))
    assert "1,001 characters long; the limit is 1,000" in fake.text_of(long)
    unknown = await fake.reply_to(await fake.slash("organiser", "update", ref="ZZZZZZ", text="a"))
    assert "No campaign ZZZZZZ found" in fake.text_of(unknown)
