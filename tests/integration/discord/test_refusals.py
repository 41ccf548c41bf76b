"""Every refusal on Discord is explained privately and changes nothing."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from bot.domain.campaign import CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import FORM, create_campaign, custom_ids


def form_values(modal: dict) -> dict[str, str]:
    """The prefilled values of a modal the bot opened (Label layout); a field left empty
    (the optional variants) is not among them."""
    return {
        row["component"]["custom_id"]: row["component"]["value"]
        for row in modal["components"]
        if row["component"].get("value") is not None
    }


async def test_non_moderator_cannot_approve(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    calls_before = len(fake.calls)
    for button in (f"chorus:approve:{campaign.id}", f"chorus:reject:{campaign.id}"):
        refusal = await fake.reply_to(await fake.press("outsider", card["id"], button))
        assert refusal["flags"] & EPHEMERAL
        assert "Only moderators" in fake.text_of(refusal)
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW
    assert fake.calls_to("PATCH", rf"/channels/\d+/messages/{card['id']}") == []
    assert not any(c.path.startswith("/channels") for c in fake.calls[calls_before:])
    assert fake.modals[-1]["custom_id"].startswith("chorus:modal:campaign")  # no reject modal


async def test_forged_reject_modal_from_non_moderator_is_refused(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    submitted = await fake.submit_modal(
        "outsider", f"chorus:modal:reject:{campaign.id}", {"reason": "I dislike it"}
    )
    refusal = await fake.reply_to(submitted)
    assert "Only moderators" in fake.text_of(refusal)
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("goal", "-3", "The goal cannot be negative"),
        ("launch", "next tuesday-ish", "is not a date I can read"),
        ("message", "#rivers " + "x" * 600, "The message is 608 characters for"),
        ("title", "ab", "The title is too short"),
    ],
)
async def test_wrong_form_input_is_explained_and_the_form_reopens_prefilled(
    discord_bot: DiscordHarness, field: str, value: str, expected: str
) -> None:
    fake = discord_bot.fake
    values = {**FORM, field: value}
    submitted = await fake.submit_modal("organiser", "chorus:modal:campaign:new", values)
    answer = await fake.reply_to(submitted)
    assert answer["flags"] & EPHEMERAL
    assert expected in fake.text_of(answer)
    assert custom_ids(answer) == ["chorus:form", "chorus:dlg:cancel"]
    assert fake.channel_messages("moderation") == []

    # "Fix the form" reopens it with everything typed, the wrong value included
    reopened = await fake.reply_to(await fake.press("organiser", answer["id"], "chorus:form"))
    modal = reopened["modal"]
    assert form_values(modal) == values

    # fixing the value moves on to the networks
    fixed = await fake.submit_modal("organiser", modal["custom_id"], FORM)
    assert "chorus:dlg:networks_done" in custom_ids(await fake.reply_to(fixed))


async def test_cancel_from_a_refused_form_keeps_nothing(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    submitted = await fake.submit_modal(
        "organiser", "chorus:modal:campaign:new", {**FORM, "goal": "-3"}
    )
    answer = await fake.reply_to(submitted)
    cancelled = await fake.reply_to(
        await fake.press("organiser", answer["id"], "chorus:dlg:cancel")
    )
    assert "cancelled" in fake.text_of(cancelled)
    assert custom_ids(cancelled) == []
    organiser = UserRef("discord", fake.people["organiser"].id)
    assert await core.dialogs.active(organiser) is False
    assert await core.repo.campaigns_of(organiser) == []


async def test_promote_by_someone_else_is_refused_but_a_server_manager_may(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    early = await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    assert "cannot be promoted" in fake.text_of(early)
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))

    refusal = await fake.reply_to(await fake.slash("outsider", "promote", ref=campaign.ref))
    assert "Only the organiser or an admin" in fake.text_of(refusal)
    unknown = await fake.reply_to(await fake.slash("owner", "promote", ref="ZZZZZZ"))
    assert "No campaign ZZZZZZ found" in fake.text_of(unknown)
    assert fake.channel_messages("general") == []
    allowed = await fake.reply_to(await fake.slash("owner", "promote", ref=campaign.ref))
    assert "now posted" in fake.text_of(allowed)
    assert len(fake.channel_messages("general")) == 1


async def test_expired_pledge_link_is_refused_and_support_gives_a_fresh_one(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    (public,) = fake.channel_messages("general")

    async def pledge_token() -> str:
        press = await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
        answer = await fake.reply_to(press)
        return fake.buttons(answer)[0]["url"].rsplit("/", 1)[1]

    old = await pledge_token()
    discord_bot.clock.advance(timedelta(hours=25))
    with pytest.raises(DomainError) as refused:
        core.links.read(old)
    assert refused.value.key == "link.expired"
    assert core.links.read(await pledge_token()).campaign_ref == campaign.ref


async def test_support_on_a_closed_campaign_explains_why(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot)
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    public = copy.deepcopy(fake.channel_messages("general")[0])
    cancelled = await fake.reply_to(
        await fake.slash("organiser", "cancelcampaign", ref=campaign.ref)
    )
    assert "is cancelled" in fake.text_of(cancelled)
    await fake.wait_for(lambda: not fake.buttons(fake.messages[public["id"]]), what="card edit")
    # a stale Support press on an old copy of the card
    fake.messages[public["id"]]["components"] = public["components"]
    press = await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
    answer = await fake.reply_to(press)
    assert "is not open for pledges" in fake.text_of(answer)
    assert fake.buttons(answer) == []
