"""The whole journey through Telegram: an organiser creates a campaign step by step, a
moderator approves it, it is promoted in a group, a supporter pledges through the deep
link, and the card and the group follow along."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramApi
from tests.integration.telegram.conftest import (
    GROUP,
    MODERATION_CHAT,
    MODERATOR,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    callbacks,
    pledge_token,
    private,
    ref_of,
    sandbox_profile,
    urls,
)

MESSAGE = "Our rivers deserve better #cleanrivers https://example.org/rivers"


async def test_from_newcampaign_to_a_pledge(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    organiser = private(ORGANISER)

    # the organiser answers every question of the dialog
    ask = await tg.say(ORGANISER, organiser, "/newcampaign")
    assert ask.text == render(t("dialog.ask_title"), "en")
    assert callbacks(ask) == ["dlg:cancel"]
    ask = await tg.say(ORGANISER, organiser, "Clean rivers now")
    assert ask.text == render(t("dialog.ask_message", limit=500), "en")
    ask = await tg.say(ORGANISER, organiser, MESSAGE)
    assert ask.text == render(t("variants.ask", max=5), "en")
    ask = await tg.skip_variants(ORGANISER, ask)
    assert ask.text == render(t("dialog.ask_goal"), "en")
    ask = await tg.say(ORGANISER, organiser, "4")
    assert ask.text.startswith("When should the message go out?")
    ask = await tg.say(ORGANISER, organiser, "2030-01-20 18:00")
    assert ask.text == render(t("dialog.ask_networks"), "en")
    assert callbacks(ask) == [
        "dlg:net:mastodon",
        "dlg:net:sandbox",
        "dlg:networks_done",
        "dlg:cancel",
    ]

    networks = api.message(ask)
    edited = await tg.press_and_see_edit(ORGANISER, networks, "dlg:net:sandbox")
    assert "✅ Sandbox" in [b["text"] for b in edited.buttons]
    story = await tg.press_and_see_edit(ORGANISER, networks, "dlg:networks_done")
    assert story.text == render(t("dialog.ask_story", max=2000), "en")
    assert callbacks(story) == ["dlg:skip", "dlg:cancel"]
    picture = await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    assert picture.text == render(t("dialog.ask_picture"), "en")
    preview = await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    assert "Title: Clean rivers now" in preview.text
    assert "Story: none\nPicture: none" in preview.text
    assert "Goal: 4 supporters" in preview.text
    assert "Launch: 2030-01-20 18:00 UTC" in preview.text
    assert callbacks(preview) == ["dlg:submit", "dlg:edit", "dlg:cancel"]

    since = api.mark()
    submitted = await tg.press_and_see_edit(ORGANISER, networks, "dlg:submit")
    assert "has been sent to the moderators" in submitted.text
    assert submitted.buttons == []

    # the moderation card arrives in the moderation chat
    card_call = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
    )
    (campaign,) = await core.repo.campaigns_in([CampaignStatus.PENDING_REVIEW])
    assert campaign.title == "Clean rivers now"
    assert campaign.launch_at == datetime(2030, 1, 20, 18, 0, tzinfo=UTC)
    assert f"New campaign {campaign.ref} from Olive Organiser" in card_call.text
    assert callbacks(card_call) == [
        f"approve:{campaign.id}",
        f"reject:{campaign.id}",
        f"changes:{campaign.id}",
    ]
    card = api.message(card_call)

    # a stranger presses Approve: an alert, and nothing changes
    refused = await tg.press(STRANGER, card, f"approve:{campaign.id}")
    assert refused.params["show_alert"] is True
    assert refused.params["text"] == render(t("moderation.not_moderator"), "en")
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW
    assert api.messages[(MODERATION_CHAT["id"], card["message_id"])]["text"] == card_call.text

    # a moderator approves: the card says who and when, the organiser hears of it
    since = api.mark()
    approved = await tg.press(MODERATOR, card, f"approve:{campaign.id}")
    assert approved.params.get("show_alert") in (None, False)
    assert approved.params["text"] == render(
        t("moderation.approved", title=campaign.title, ref=campaign.ref), "en"
    )
    card_edit = await api.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == card["message_id"], since=since
    )
    assert "✅ Approved by Maya Moderator at 2030-01-15 12:00 UTC." in card_edit.text
    assert card_edit.buttons == []
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert "is live" in told.text and f"/promote {campaign.ref}" in told.text

    # the organiser promotes it in a group: the card's Support button is a deep link
    promoted = await tg.promote(ORGANISER, GROUP, campaign.ref.lower())
    assert "Clean rivers now" in promoted.text
    assert "0 / 4 supporters" in promoted.text
    from_group = f"{campaign.ref}_c{GROUP['id']}"  # the group the card is in, for /stats
    assert urls(promoted) == [f"https://t.me/{BOT_USERNAME}?start={from_group}"]
    group_card = api.message(promoted)

    # a supporter follows the deep link and gets their own pledge link
    intro = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {from_group}")
    assert "Clean rivers now" in intro.text and MESSAGE in intro.text
    token = pledge_token(intro)

    # the pledge page (another component) records the pledge with that link
    since = api.mark()
    ticket = core.links.read(token)
    assert ticket.supporter == ref_of(SUPPORTER)
    pledge = await core.pledges.record(ticket, sandbox_profile())
    assert pledge.campaign_id == campaign.id
    thanks = await api.wait_for("sendMessage", lambda c: c.chat_id == SUPPORTER["id"], since=since)
    assert "Thank you! @sacha supports “Clean rivers now”" in thanks.text
    milestone = await api.wait_for("sendMessage", lambda c: c.chat_id == GROUP["id"], since=since)
    assert milestone.text == render(
        t("announce.milestone_25", title=campaign.title, supporters=1, goal=4), "en"
    )
    await core.cards.flush()
    refreshed = await api.wait_for(
        "editMessageText",
        lambda c: c.chat_id == GROUP["id"] and c.params["message_id"] == group_card["message_id"],
        since=since,
    )
    assert "1 / 4 supporters · reach 150" in refreshed.text
    assert urls(refreshed) == [f"https://t.me/{BOT_USERNAME}?start={from_group}"]
