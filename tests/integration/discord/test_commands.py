"""The organiser's and supporter's other commands, and editing a draft before submitting."""

from __future__ import annotations

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import ChatRef, UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import (
    FORM,
    PREVIEW_BUTTONS,
    create_campaign,
    custom_ids,
    skip_optional,
)
from tests.integration.discord.test_refusals import form_values


async def promoted_campaign(h: DiscordHarness) -> Campaign:
    """A campaign created, approved and promoted in #general."""
    fake, core = h.fake, h.core
    card = await create_campaign(h)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    return campaign


async def live_campaign_with_pledge(h: DiscordHarness) -> str:
    """A live, promoted campaign the supporter pledged to; return its reference."""
    fake, core = h.fake, h.core
    campaign = await promoted_campaign(h)
    (public,) = fake.channel_messages("general")
    support = await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
    url = fake.buttons(await fake.reply_to(support))[0]["url"]
    profile = LinkedProfile(
        MASTODON, "mastodon.example", "99", "sam", 50, TokenSet("test-token-not-real")
    )
    await core.pledges.record(core.links.read(url.rsplit("/", 1)[1]), profile)
    return campaign.ref


async def test_my_campaigns_lists_with_status_and_figures(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    empty = await fake.reply_to(await fake.slash("organiser", "mycampaigns"))
    assert "not created any campaign" in fake.text_of(empty)
    ref = await live_campaign_with_pledge(discord_bot)
    listing = await fake.reply_to(await fake.slash("organiser", "mycampaigns"))
    assert listing["flags"] & EPHEMERAL
    text = fake.text_of(listing)
    assert f"{ref} · Clean rivers now · live · 1 / 3 supporters · reach 50" in text


async def test_my_pledges_unpledge_and_forget(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    pledges = await fake.reply_to(await fake.slash("supporter", "mypledges"))
    assert f"{ref} · Clean rivers now · @sam@mastodon.example · pledged" in fake.text_of(pledges)

    nothing = await fake.reply_to(await fake.slash("outsider", "unpledge", ref=ref))
    assert f"You have no pledge for {ref}" in fake.text_of(nothing)
    withdrawn = await fake.reply_to(await fake.slash("supporter", "unpledge", ref=ref))
    assert "1 pledge withdrawn" in fake.text_of(withdrawn)
    supporter = UserRef("discord", fake.people["supporter"].id)
    (pledge,) = await core.repo.pledges_of_supporter(supporter)
    assert pledge.status is PledgeStatus.WITHDRAWN
    empty = await fake.reply_to(await fake.slash("supporter", "mypledges"))
    assert "do not support any campaign" in fake.text_of(empty)

    confirm = await fake.reply_to(await fake.slash("supporter", "forget"))
    assert "cannot be undone" in fake.text_of(confirm)
    assert custom_ids(confirm) == ["chorus:forget:yes", "chorus:forget:no"]
    kept = await fake.reply_to(await fake.press("supporter", confirm["id"], "chorus:forget:no"))
    assert "Nothing was changed" in fake.text_of(kept)
    assert custom_ids(kept) == []
    assert await core.repo.accounts_of(supporter)  # nothing erased without a yes

    confirm = await fake.reply_to(await fake.slash("supporter", "forget"))
    erased = await fake.reply_to(await fake.press("supporter", confirm["id"], "chorus:forget:yes"))
    assert "Erased: 1 linked account and 1 pledge." in fake.text_of(erased)
    assert custom_ids(erased) == []
    assert await core.repo.accounts_of(supporter) == []


async def test_cancel_campaign_is_for_its_organiser_only(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    ref = await live_campaign_with_pledge(discord_bot)
    refused = await fake.reply_to(await fake.slash("outsider", "cancelcampaign", ref=ref))
    assert f"Campaign {ref} is not yours" in fake.text_of(refused)
    done = await fake.reply_to(await fake.slash("organiser", "cancelcampaign", ref=ref))
    assert "is cancelled" in fake.text_of(done)
    told = await fake.wait_for(lambda: fake.dm_messages("supporter"), what="supporter DMs")
    assert any("was cancelled by its organiser" in m["content"] for m in told)


async def test_edit_reopens_the_form_prefilled_and_keeps_the_networks(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    submitted = await fake.submit_modal("organiser", "chorus:modal:campaign:new", FORM)
    networks = await fake.reply_to(submitted)
    await fake.reply_to(await fake.press("organiser", networks["id"], "chorus:dlg:net:mastodon"))
    asked = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )
    preview = await skip_optional(discord_bot, "organiser", asked)
    modal = (await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:edit")))[
        "modal"
    ]
    assert modal["custom_id"] == "chorus:modal:campaign:edit"
    assert form_values(modal) == FORM

    edited = await fake.submit_modal(
        "organiser", modal["custom_id"], {**FORM, "title": "Clean rivers everywhere"}
    )
    new_preview = await fake.reply_to(edited)
    text = fake.text_of(new_preview)
    assert "Title: Clean rivers everywhere" in text
    assert "Networks: mastodon" in text
    assert custom_ids(new_preview) == PREVIEW_BUTTONS


async def test_help_and_commands_in_private_messages(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    help_ = await fake.reply_to(await fake.slash("outsider", "help", channel=None))
    assert "/newcampaign" in fake.text_of(help_)
    assert help_["flags"] & EPHEMERAL
    promote = await fake.reply_to(await fake.slash("organiser", "promote", channel=None, ref="X"))
    assert "Use /promote in a server channel" in fake.text_of(promote)


async def test_promoting_again_moves_the_card_and_a_vanished_card_is_no_matter(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    campaign = await promoted_campaign(discord_bot)
    ref = campaign.ref
    (first,) = fake.channel_messages("general")

    await fake.reply_to(await fake.slash("organiser", "promote", ref=ref))

    (second,) = fake.channel_messages("general")
    assert second["id"] != first["id"]
    assert fake.calls_to("DELETE", rf"/channels/\d+/messages/{first['id']}")[0].status == 204
    del fake.messages[second["id"]]  # a moderator removed it by hand
    await fake.reply_to(await fake.slash("organiser", "promote", ref=ref))
    (third,) = fake.channel_messages("general")
    assert fake.calls_to("DELETE", rf"/channels/\d+/messages/{second['id']}")[0].status == 404
    assert await core.announcer.promoted_chats(campaign.id or 0) == [
        (ChatRef("discord", third["channel_id"]), "en")
    ]
