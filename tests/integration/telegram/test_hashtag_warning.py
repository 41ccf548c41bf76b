"""Telegram: a campaign message without a hashtag is warned about, with keep / change."""

from __future__ import annotations

from bot.app import Chorus
from bot.dialog import DialogState, Step
from bot.domain.text import t
from bot.i18n import render
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    ORGANISER,
    Driver,
    callbacks,
    private,
    ref_of,
)

NO_TAG = "Join us to clean the river https://example.org/river"
WARNING_BUTTONS = ["dlg:keep_message", "dlg:rewrite_message", "dlg:cancel"]


async def test_warning_then_change_then_keep(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    await tg.say(ORGANISER, chat, "Clean rivers now")

    warning = await tg.say(ORGANISER, chat, NO_TAG)
    assert warning.text == render(t("dialog.no_hashtag"), "en")
    assert warning.text.startswith("⚠️ Trending needs a hashtag")
    assert callbacks(warning) == WARNING_BUTTONS

    changing = await tg.press_and_see_edit(ORGANISER, api.message(warning), "dlg:rewrite_message")
    assert changing.text == render(t("dialog.ask_message", limit=500), "en")

    warning = await tg.say(ORGANISER, chat, NO_TAG + " today")
    kept = await tg.press_and_see_edit(ORGANISER, api.message(warning), "dlg:keep_message")
    assert kept.text == render(t("variants.ask", max=5), "en")  # optional, then the goal
    data = await core.repo.load_dialog(ref_of(ORGANISER).key)
    assert data is not None
    state = DialogState.from_dict(data)
    assert (state.step, state.message) == (Step.VARIANTS, NO_TAG + " today")


async def test_warning_in_french_and_a_new_message_typed_over_it(tg: Driver) -> None:
    chat = private(FRENCH)
    await tg.say(FRENCH, chat, "/newcampaign")
    await tg.say(FRENCH, chat, "Rivières propres")
    warning = await tg.say(FRENCH, chat, NO_TAG)
    assert warning.text.startswith("⚠️ Pour être en tendance, il faut un hashtag")
    assert callbacks(warning) == WARNING_BUTTONS
    variants = await tg.say(FRENCH, chat, "Rejoignez-nous #rivieres")
    assert variants.text == render(t("variants.ask", max=5), "fr")
    assert callbacks(variants) == ["dlg:variants_done", "dlg:cancel"]
