"""Rejecting with a reason, and campaigns that came from another chat platform."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.sandbox import SANDBOX
from bot.dialog import CampaignDraft
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import ChatRef, UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import create_campaign, custom_ids


async def test_reject_reason_reaches_the_organiser_by_private_message(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))

    pressed = await fake.press("moderator", card["id"], f"chorus:reject:{campaign.id}")
    modal = (await fake.reply_to(pressed))["modal"]
    assert modal["custom_id"] == f"chorus:modal:reject:{campaign.id}"
    assert modal["title"] == "Reject the campaign"

    # an empty reason is refused by the core rule, and nothing changes
    empty = await fake.submit_modal("moderator", modal["custom_id"], {"reason": "   "})
    assert "Please give a reason" in fake.text_of(await fake.reply_to(empty))
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW

    reason = "Please link to the river study you quote."
    submitted = await fake.submit_modal("moderator", modal["custom_id"], {"reason": reason})
    answer = await fake.reply_to(submitted)
    assert answer["flags"] & EPHEMERAL
    assert "was rejected" in fake.text_of(answer)
    rejected = await core.campaigns.get(campaign.ref)
    assert rejected.status is CampaignStatus.REJECTED
    assert rejected.reject_reason == reason
    assert rejected.decided_by is not None and rejected.decided_by.name == "Moderator"

    dms = await fake.wait_for(lambda: fake.dm_messages("organiser"), what="organiser DM")
    assert reason in dms[-1]["content"]
    assert "was not approved" in dms[-1]["content"]
    card_now = fake.messages[card["id"]]
    assert custom_ids(card_now) == []
    assert f"Rejected by Moderator at 2030-01-15 12:00 UTC: {reason}" in fake.text_of(card_now)


async def test_a_campaign_from_telegram_is_moderated_and_promoted_on_discord(
    discord_bot: DiscordHarness,
) -> None:
    fake, core, clock = discord_bot.fake, discord_bot.core, discord_bot.clock
    organiser = UserRef("telegram", "777000", "Tom", "en")
    draft = CampaignDraft(
        title="Bike lanes for all",
        message="Safer streets now #bikelanes",
        goal=0,
        launch_at=clock.now() + timedelta(days=3),
        networks=(SANDBOX,),
    )
    campaign = await core.campaigns.submit(draft, organiser, ChatRef("telegram", "-100123"))

    # the moderation card reached the Discord moderators too
    cards = await fake.wait_for(lambda: fake.channel_messages("moderation"), what="mod card")
    assert "Bike lanes for all" in fake.text_of(cards[0])
    assert "from Tom" in fake.text_of(cards[0])
    approve = await fake.press("moderator", cards[0]["id"], f"chorus:approve:{campaign.id}")
    assert "approved" in fake.text_of(await fake.reply_to(approve))

    # a server manager promotes it in a Discord channel
    answer = await fake.reply_to(await fake.slash("owner", "promote", ref=campaign.ref))
    assert "now posted" in fake.text_of(answer)
    (public,) = fake.channel_messages("general")
    assert "0 supporters (no minimum)" in fake.text_of(public)
    support = await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
    url = fake.buttons(await fake.reply_to(support))[0]["url"]
    ticket = core.links.read(url.rsplit("/", 1)[1])
    assert ticket.supporter.platform == "discord"
    assert ticket.campaign_ref == campaign.ref
