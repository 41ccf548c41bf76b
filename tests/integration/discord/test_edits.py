"""Request changes and edits before the launch on Discord, through the wire fake: the
moderator's note in a form, the organiser's /editcampaign and /resubmit, a new moderation
card approved; an edit after approval reaching every supporter by DM in their language with
a working Withdraw button; a launch moved within a day back to moderation; strangers refused."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.i18n import render
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import create_campaign, custom_ids
from tests.integration.discord.test_commands import live_campaign_with_pledge


async def test_request_changes_edit_resubmit_approve(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    assert f"chorus:changes:{campaign.id}" in custom_ids(card)

    stranger = await fake.press("outsider", card["id"], f"chorus:changes:{campaign.id}")
    assert "Only moderators" in fake.text_of(await fake.reply_to(stranger))

    pressed = await fake.press("moderator", card["id"], f"chorus:changes:{campaign.id}")
    modal = (await fake.reply_to(pressed))["modal"]
    assert modal["custom_id"] == f"chorus:modal:changes:{campaign.id}"
    assert modal["title"] == "Request changes"
    empty = await fake.submit_modal("moderator", modal["custom_id"], {"note": "  "})
    assert "Please say what should change" in fake.text_of(await fake.reply_to(empty))
    forged = await fake.submit_modal("outsider", modal["custom_id"], {"note": "mine"})
    assert "Only moderators" in fake.text_of(await fake.reply_to(forged))

    note = "Say where the river study comes from."
    submitted = await fake.submit_modal("moderator", modal["custom_id"], {"note": note})
    answer = await fake.reply_to(submitted)
    assert answer["flags"] & EPHEMERAL and "were requested" in fake.text_of(answer)
    dms = await fake.wait_for(lambda: fake.dm_messages("organiser"), what="organiser DM")
    assert note in dms[-1]["content"] and "asks for changes" in dms[-1]["content"]
    card_now = fake.messages[card["id"]]
    assert custom_ids(card_now) == []
    assert f"Changes requested by Moderator at 2030-01-15 12:00 UTC: {note}" in fake.text_of(
        card_now
    )
    stale = await fake.submit_modal("moderator", modal["custom_id"], {"note": note})
    assert "cannot" in fake.text_of(await fake.reply_to(stale))  # a replayed form

    shown = await fake.reply_to(await fake.slash("organiser", "editcampaign", ref=campaign.ref))
    assert note in fake.text_of(shown) and "title: Clean rivers now" in fake.text_of(shown)
    other = await fake.reply_to(await fake.slash("moderator", "editcampaign", ref=campaign.ref))
    assert f"Campaign {campaign.ref} is not yours" in fake.text_of(other)
    saved = await fake.reply_to(
        await fake.slash(
            "organiser",
            "editcampaign",
            ref=campaign.ref,
            field="title",
            value="Clean rivers study",
        )
    )
    assert f"/resubmit {campaign.ref}" in fake.text_of(saved)
    before = len(fake.channel_messages("moderation"))
    back = await fake.reply_to(await fake.slash("organiser", "resubmit", ref=campaign.ref))
    assert "is back with the moderators" in fake.text_of(back)
    cards = await fake.wait_for(
        lambda: fake.channel_messages("moderation")[before:], what="new moderation card"
    )
    assert "Clean rivers study" in fake.text_of(cards[-1])
    approve = await fake.press("moderator", cards[-1]["id"], f"chorus:approve:{campaign.id}")
    assert "approved" in fake.text_of(await fake.reply_to(approve))
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE


async def test_an_edit_after_approval_reaches_each_supporter_in_their_language(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    french = UserRef("discord", fake.people["outsider"].id, "Outsider", "fr")
    profile = LinkedProfile(
        MASTODON, "mastodon.example", "77", "fr", 10, TokenSet("test-token-not-real")
    )
    await core.pledges.record(core.links.read(core.links.issue(ref, french)), profile)

    saved = await fake.reply_to(
        await fake.slash("organiser", "editcampaign", ref=ref, field="goal", value="30")
    )
    assert "Saved. 2 of 2 supporters were told." in fake.text_of(saved)
    (english,) = [m for m in fake.dm_messages("supporter") if "changed" in m["content"]]
    assert "Goal: 3 supporters → 30 supporters" in english["content"]
    assert [c["custom_id"] for c in fake.buttons(english)] == [f"chorus:withdraw:{ref}"]
    (in_french,) = [m for m in fake.dm_messages("outsider") if "a modifié" in m["content"]]
    assert "Objectif : 3 soutiens → 30 soutiens" in in_french["content"]

    withdrawn = await fake.reply_to(
        await fake.press("outsider", in_french["id"], f"chorus:withdraw:{ref}", locale="fr")
    )
    assert render(t("unpledge.done", count=1, ref=ref), "fr") in fake.text_of(withdrawn)
    campaign = await core.campaigns.get(ref)
    assert campaign.id is not None
    left = await core.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
    assert [p.supporter.id for p in left] == [fake.people["supporter"].id]


async def test_a_launch_moved_within_a_day_goes_back_to_moderation(
    discord_bot: DiscordHarness,
) -> None:
    fake, core, clock = discord_bot.fake, discord_bot.core, discord_bot.clock
    ref = await live_campaign_with_pledge(discord_bot)
    soon = (clock.now() + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")
    before = len(fake.channel_messages("moderation"))
    saved = await fake.reply_to(
        await fake.slash("organiser", "editcampaign", ref=ref, field="launch", value=soon)
    )
    assert "goes back to the moderators; 1 of 1 supporter was told" in fake.text_of(saved)
    assert (await core.campaigns.get(ref)).status is CampaignStatus.PENDING_REVIEW
    cards = await fake.wait_for(
        lambda: fake.channel_messages("moderation")[before:], what="new moderation card"
    )
    assert custom_ids(cards[-1])[0].startswith("chorus:approve:")
    waiting = await fake.wait_for(
        lambda: [
            m
            for m in fake.channel_messages("general")
            if "Waiting for moderation" in fake.text_of(m)
        ],
        what="the card without its Support button",
    )
    assert custom_ids(waiting[0]) == []  # no Support while it waits
