"""Telegram: the organiser adds other wordings one message at a time, removes one with its
button, sees them in the preview; the moderators read them on the card."""

from __future__ import annotations

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.domain.variants import Variant
from bot.i18n import render
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    MODERATION_CHAT,
    ORGANISER,
    Driver,
    callbacks,
    private,
)

MESSAGE = "Our rivers deserve better #cleanrivers https://example.org/rivers"
SECOND = "Clean water for all #cleanrivers https://example.org/rivers"
THIRD = "Rivers are life #cleanrivers https://example.org/rivers"
FRENCH = "Des rivières propres #cleanrivers https://example.org/rivers"


async def test_adding_and_removing_variants_through_telegram(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    await tg.say(ORGANISER, chat, "Clean rivers now")
    ask = await tg.say(ORGANISER, chat, MESSAGE)
    assert ask.text == render(t("variants.ask", max=5), "en")
    assert [b["text"] for b in ask.buttons] == ["Skip", "Cancel"]

    listed = await tg.say(ORGANISER, chat, SECOND)
    assert f"2. {SECOND}" in listed.text
    assert callbacks(listed) == ["dlg:variant_rm:2", "dlg:variants_done", "dlg:cancel"]
    assert [b["text"] for b in listed.buttons][:2] == ["🗑 Remove 2", "Done"]

    refused = await tg.say(ORGANISER, chat, "Clean water https://example.org/rivers")
    reason = render(t("variants.missing_hashtags", number=3, tags="#cleanrivers"), "en")
    assert refused.text.startswith(reason)
    assert "Wording 3 must keep the campaign's hashtags: #cleanrivers is missing." in refused.text

    await tg.say(ORGANISER, chat, f"fr: {FRENCH}")
    listed = await tg.say(ORGANISER, chat, THIRD)
    assert f"3. [fr] {FRENCH}" in listed.text and f"4. {THIRD}" in listed.text

    removed = await tg.press_and_see_edit(ORGANISER, api.message(listed), "dlg:variant_rm:2")
    assert SECOND not in removed.text
    assert f"2. [fr] {FRENCH}" in removed.text and f"3. {THIRD}" in removed.text
    assert callbacks(removed)[:2] == ["dlg:variant_rm:2", "dlg:variant_rm:3"]

    goal = await tg.press_and_see_edit(ORGANISER, api.message(listed), "dlg:variants_done")
    assert goal.text == render(t("dialog.ask_goal"), "en")
    await tg.say(ORGANISER, chat, "4")
    networks = api.message(await tg.say(ORGANISER, chat, "2030-01-20 18:00"))
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:net:mastodon")
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:networks_done")  # the story
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")  # the picture
    preview = await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    assert "Other wordings:" in preview.text
    assert f"2. [fr] {FRENCH}" in preview.text and f"3. {THIRD}" in preview.text

    since = api.mark()
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:submit")
    card = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
    )
    assert f"2. [fr] {FRENCH}" in card.text and f"3. {THIRD}" in card.text
    (campaign,) = await core.repo.campaigns_in([CampaignStatus.PENDING_REVIEW])
    assert campaign.variants == (Variant(FRENCH, "fr"), Variant(THIRD))
