"""A campaign created in a server channel is promoted there once approved, through the
loopback Discord: by default, not when the organiser declines, and with the organiser
told when the channel is gone. The public page links to the card, or to the invite the
organiser gave with /setinvite (only a Discord invite, only the organiser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.domain.campaign import Campaign, CampaignStatus, JoinLink
from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import (
    FORM,
    create_campaign,
    custom_ids,
    skip_optional,
)


async def approve(h: DiscordHarness, card: dict[str, Any]) -> Campaign:
    fake = h.fake
    (campaign,) = await h.core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))
    return await h.core.campaigns.get(campaign.ref)


async def public_page(h: DiscordHarness, ref: str) -> str:
    server = TestServer(h.core.web_app)
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as browser,
            browser.get(str(server.make_url(f"/c/{ref}"))) as response,
        ):
            assert response.status == 200
            return await response.text()
    finally:
        await server.close()


@pytest.fixture
async def live(discord_bot: DiscordHarness) -> AsyncIterator[Campaign]:
    """A campaign created in #general, the organiser having declined the card there."""
    campaign = await approve(discord_bot, await create_campaign(discord_bot))
    assert discord_bot.fake.channel_messages("general") == []
    yield campaign


async def test_card_goes_where_the_campaign_was_created(discord_bot: DiscordHarness) -> None:
    h, fake = discord_bot, discord_bot.fake
    card = await create_campaign(h, post_here=True)
    campaign = await approve(h, card)
    assert campaign.status is CampaignStatus.LIVE and campaign.promote_origin

    (posted,) = await fake.wait_for(lambda: fake.channel_messages("general"), what="card")
    assert posted["embeds"][0]["title"] == f"📣 Clean rivers now ({campaign.ref})"
    general = fake.channels["general"]["id"]
    link = f"https://discord.com/channels/{fake.guild_id}/{general}/{posted['id']}"
    assert campaign.join_link == JoinLink("discord", link)

    page = await public_page(h, campaign.ref)
    assert f'href="{link}"' in page and "Support on Discord" in page

    # one card per chat: /promote there replaces it, and the page follows to the new one
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    (again,) = fake.channel_messages("general")
    assert again["id"] != posted["id"]
    moved = f"https://discord.com/channels/{fake.guild_id}/{general}/{again['id']}"
    assert (await h.core.campaigns.get(campaign.ref)).join_link == JoinLink("discord", moved)


async def test_a_promote_elsewhere_gives_the_link_when_there_is_none(
    discord_bot: DiscordHarness, live: Campaign
) -> None:
    h, fake = discord_bot, discord_bot.fake
    await fake.reply_to(await fake.slash("organiser", "promote", ref=live.ref))
    (posted,) = fake.channel_messages("general")
    general = fake.channels["general"]["id"]
    link = f"https://discord.com/channels/{fake.guild_id}/{general}/{posted['id']}"
    assert (await h.core.campaigns.get(live.ref)).join_link == JoinLink("discord", link)


async def test_an_organiser_who_declines_gets_no_card(live: Campaign) -> None:
    assert not live.promote_origin and live.join_link is None


async def test_the_organiser_can_change_their_mind_before_approval(
    discord_bot: DiscordHarness,
) -> None:
    h, fake = discord_bot, discord_bot.fake
    card = await create_campaign(h)  # declined...
    (campaign,) = await h.core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    declined = next(m for m in fake.messages.values() if f"origin:on:{campaign.ref}" in str(m))
    back = await fake.reply_to(
        await fake.press("organiser", declined["id"], f"chorus:origin:on:{campaign.ref}")
    )
    assert "will be posted in this channel" in fake.text_of(back)
    await approve(h, card)
    await fake.wait_for(lambda: fake.channel_messages("general"), what="card")
    # after approval, the choice is made: the button says so instead of changing it
    late = await fake.reply_to(
        await fake.press("organiser", back["id"], f"chorus:origin:off:{campaign.ref}")
    )
    assert "Use /promote" in fake.text_of(late)


async def test_no_card_for_a_campaign_created_in_a_dm(discord_bot: DiscordHarness) -> None:
    h, fake = discord_bot, discord_bot.fake
    command = await fake.slash("organiser", "newcampaign", channel=None)
    modal = (await fake.reply_to(command))["modal"]
    networks = await fake.reply_to(
        await fake.submit_modal("organiser", modal["custom_id"], FORM, channel=None)
    )
    await fake.reply_to(await fake.press("organiser", networks["id"], "chorus:dlg:net:mastodon"))
    asked = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )
    preview = await skip_optional(h, "organiser", asked)
    done = await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:submit"))
    assert "has been sent to the moderators" in fake.text_of(done)
    assert custom_ids(done) == [] and "this channel" not in fake.text_of(done)
    cards = await fake.wait_for(lambda: fake.channel_messages("moderation"), what="mod card")
    campaign = await approve(h, cards[-1])
    assert not campaign.promote_origin
    dm = fake.dm_channels[fake.people["organiser"].id]["id"]
    assert not any(
        "embeds" in m and m["embeds"] for m in fake.messages.values() if m["channel_id"] == dm
    )


async def test_a_gone_channel_is_told_to_the_organiser(discord_bot: DiscordHarness) -> None:
    h, fake = discord_bot, discord_bot.fake
    fake.channels["doomed"] = {**fake.channels["general"], "id": "42", "name": "doomed"}
    card = await create_campaign(h, post_here=True, channel="doomed")
    del fake.channels["doomed"]  # deleted while the campaign waited (or the bot was removed)
    campaign = await approve(h, card)
    assert campaign.status is CampaignStatus.LIVE and campaign.join_link is None
    told = await fake.wait_for(
        lambda: [m for m in fake.dm_messages("organiser") if "could not be posted" in str(m)],
        what="organiser told",
    )
    assert f"/promote {campaign.ref}" in told[-1]["content"]


async def test_the_organiser_sets_an_invite_for_the_page(
    discord_bot: DiscordHarness, live: Campaign
) -> None:
    h, fake = discord_bot, discord_bot.fake
    done = await fake.reply_to(
        await fake.slash(
            "organiser", "setinvite", ref=live.ref.lower(), url=" discord.com/invite/Chorus-42/ "
        )
    )
    assert done["flags"] & EPHEMERAL
    assert f"The public page of {live.ref}" in fake.text_of(done)
    stored = await h.core.campaigns.get(live.ref)
    assert stored.join_link == JoinLink("discord", "https://discord.gg/Chorus-42", invite=True)
    page = await public_page(h, live.ref)
    assert 'href="https://discord.gg/Chorus-42"' in page and "Support on Discord" in page


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/discord.gg/abc",
        "https://discord.gg.evil.example/abc",
        "https://discord.gg@evil.example/abc",
        "https://discord.gg/abc?next=https://evil.example",
        "javascript:alert(1)//discord.gg/abc",
        "https://discord.com/channels/1/2",
        "https://discord.gg/",
        "not a link",
    ],
)
async def test_only_a_discord_invite_is_taken(
    discord_bot: DiscordHarness, live: Campaign, url: str
) -> None:
    h, fake = discord_bot, discord_bot.fake
    refused = await fake.reply_to(
        await fake.slash("organiser", "setinvite", ref=live.ref, url=url)
    )
    assert "That is not a Discord invite" in fake.text_of(refused)
    assert (await h.core.campaigns.get(live.ref)).join_link is None


async def test_only_the_organiser_sets_the_invite(
    discord_bot: DiscordHarness, live: Campaign
) -> None:
    h, fake = discord_bot, discord_bot.fake
    for person in ("outsider", "owner"):  # even a server admin: the page is the organiser's
        refused = await fake.reply_to(
            await fake.slash(person, "setinvite", ref=live.ref, url="https://discord.gg/mine")
        )
        assert f"Campaign {live.ref} is not yours" in fake.text_of(refused)
    assert (await h.core.campaigns.get(live.ref)).join_link is None
    page = await public_page(h, live.ref)
    assert "Support on Discord" not in page


async def test_an_invite_given_first_wins_over_the_card_link(discord_bot: DiscordHarness) -> None:
    h, fake = discord_bot, discord_bot.fake
    card = await create_campaign(h, post_here=True)
    (campaign,) = await h.core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(
        await fake.slash("organiser", "setinvite", ref=campaign.ref, url="https://discord.gg/ours")
    )
    await approve(h, card)
    await fake.wait_for(lambda: fake.channel_messages("general"), what="card")
    stored = await h.core.campaigns.get(campaign.ref)
    assert stored.join_link == JoinLink("discord", "https://discord.gg/ours", invite=True)
