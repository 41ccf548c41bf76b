"""/pending for moderators, expired cards, and moderation by direct message."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.networks.sandbox import SANDBOX
from bot.app import Chorus
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes import discord_builders as b
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord
from tests.integration.discord.conftest import (
    DiscordHarness,
    discord_settings,
    start_bot,
)
from tests.integration.discord.test_campaign_loop import custom_ids

ORGANISER = UserRef("telegram", "777000", "Tom", "en")


async def submit(core: Chorus, clock: FakeClock, title: str = "Bike lanes for all") -> Campaign:
    draft = CampaignDraft(
        title=title,
        message="Safer streets now #bikelanes",
        goal=0,
        launch_at=clock.now() + timedelta(days=3),
        networks=(SANDBOX,),
    )
    return await core.campaigns.submit(draft, ORGANISER)


async def test_pending_shows_moderators_what_waits_with_buttons_that_decide(
    discord_bot: DiscordHarness,
) -> None:
    fake, core, clock = discord_bot.fake, discord_bot.core, discord_bot.clock
    first = await submit(core, clock, "Bike lanes for all")
    clock.advance(timedelta(minutes=1))
    second = await submit(core, clock, "Trees on every street")
    listing = await fake.reply_to(await fake.slash("moderator", "pending"))
    assert listing["flags"] & EPHEMERAL
    text = fake.text_of(listing)
    assert text.index(first.ref) < text.index(second.ref)
    assert "Bike lanes for all" in text and "from Tom" in text
    assert custom_ids(listing) == [
        f"chorus:approve:{first.id}",
        f"chorus:reject:{first.id}",
        f"chorus:approve:{second.id}",
        f"chorus:reject:{second.id}",
    ]
    pressed = await fake.press("moderator", listing["id"], f"chorus:approve:{second.id}")
    assert "approved" in fake.text_of(await fake.reply_to(pressed))
    assert (await core.campaigns.get(second.ref)).status is CampaignStatus.LIVE


async def test_pending_is_refused_to_members_who_may_not_moderate(
    discord_bot: DiscordHarness,
) -> None:
    fake, core, clock = discord_bot.fake, discord_bot.core, discord_bot.clock
    campaign = await submit(core, clock)
    refusal = await fake.reply_to(await fake.slash("outsider", "pending"))
    assert refusal["flags"] & EPHEMERAL
    assert "Only moderators can see" in fake.text_of(refusal)
    assert campaign.ref not in fake.text_of(refusal)


async def test_an_expired_campaign_loses_its_buttons_and_an_old_press_is_explained(
    discord_bot: DiscordHarness,
) -> None:
    fake, core, clock = discord_bot.fake, discord_bot.core, discord_bot.clock
    campaign = await submit(core, clock)
    [card] = await fake.wait_for(lambda: fake.channel_messages("moderation"), what="mod card")
    old_card = copy.deepcopy(card)  # as a client that has not refreshed still shows it
    assert campaign.id is not None
    clock.set(campaign.launch_at)
    await core.expiry.expire(campaign.id)
    card_now = fake.messages[card["id"]]
    assert custom_ids(card_now) == []
    assert "Expired: its launch moment came" in fake.text_of(card_now)

    press = b.button_press(
        f"chorus:approve:{campaign.id}", old_card, **fake.context("moderator", "moderation")
    )
    answer = await fake.reply_to(await fake.inject(press))
    assert f"Campaign {campaign.ref} expired" in fake.text_of(answer)
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.EXPIRED


@pytest.fixture
async def private_bot(
    fake_discord: FakeDiscord, repo: Repository, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[DiscordHarness]:
    fake_discord.add_person("mira")  # a moderator known only by id: no role, no rights
    fake_discord.add_person("milo")
    settings = discord_settings(
        fake_discord,
        tmp_path,
        discord_moderation_channel_id=None,
        moderation_in_private=True,
        discord_moderator_ids=[fake_discord.people[n].id for n in ("mira", "milo")],
    )
    bot = await start_bot(fake_discord, settings, repo, clock)
    try:
        yield bot
    finally:
        await bot.stop()


async def test_listed_moderators_get_the_card_by_dm_and_decide_there(
    private_bot: DiscordHarness,
) -> None:
    fake, core, clock = private_bot.fake, private_bot.core, private_bot.clock
    campaign = await submit(core, clock)
    [mira_card] = await fake.wait_for(lambda: fake.dm_messages("mira"), what="mira's card")
    [milo_card] = await fake.wait_for(lambda: fake.dm_messages("milo"), what="milo's card")
    assert fake.channel_messages("moderation") == []
    assert "Bike lanes for all" in fake.text_of(mira_card)
    assert custom_ids(milo_card) == [
        f"chorus:approve:{campaign.id}",
        f"chorus:reject:{campaign.id}",
        f"chorus:changes:{campaign.id}",
    ]

    pressed = await fake.press("mira", mira_card["id"], f"chorus:approve:{campaign.id}")
    assert "approved" in fake.text_of(await fake.reply_to(pressed))
    live = await core.campaigns.get(campaign.ref)
    assert live.status is CampaignStatus.LIVE
    assert live.decided_by is not None and live.decided_by.id == fake.people["mira"].id
    for card in (mira_card, milo_card):
        assert custom_ids(fake.messages[card["id"]]) == []
        assert "Approved by Mira" in fake.text_of(fake.messages[card["id"]])

    listing = await fake.reply_to(await fake.slash("milo", "pending", channel=None))
    assert "No campaign is waiting" in fake.text_of(listing)


async def test_someone_not_listed_cannot_decide_in_a_dm(private_bot: DiscordHarness) -> None:
    fake, core, clock = private_bot.fake, private_bot.core, private_bot.clock
    campaign = await submit(core, clock)
    [card] = await fake.wait_for(lambda: fake.dm_messages("mira"), what="mira's card")
    press = b.button_press(f"chorus:approve:{campaign.id}", card, **fake.context("outsider", None))
    refusal = await fake.reply_to(await fake.inject(press))
    assert "Only moderators" in fake.text_of(refusal)
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW
    listing = await fake.reply_to(await fake.slash("outsider", "pending", channel=None))
    assert "Only moderators can see" in fake.text_of(listing)
