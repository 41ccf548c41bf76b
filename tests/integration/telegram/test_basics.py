"""Start-up, /start and /help, languages, the command menu, and what the bot says to
things it does not know."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from pydantic import SecretStr

from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from bot.app import Chorus
from bot.domain.text import t
from bot.i18n import render
from bot.settings import SettingsError
from tests.fakes.telegram_api import BOT_USERNAME, FAKE_TOKEN, FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    ORGANISER,
    STRANGER,
    Driver,
    callbacks,
    private,
    urls,
)


async def test_start_explains_chorus(tg: Driver) -> None:
    answer = await tg.say(STRANGER, private(STRANGER), "/start")
    assert answer.text == render(t("telegram.welcome"), "en")
    assert "/newcampaign" in answer.text


async def test_help_lists_every_command(tg: Driver) -> None:
    answer = await tg.say(STRANGER, private(STRANGER), "/help")
    for command in ("/newcampaign", "/mycampaigns", "/promote", "/mypledges", "/forget"):
        assert command in answer.text


async def test_french_user_gets_french_texts(tg: Driver) -> None:
    welcome = await tg.say(FRENCH, private(FRENCH), "/start")
    assert welcome.text == render(t("telegram.welcome"), "fr")
    assert "Je suis Chorus" in welcome.text
    question = await tg.say(FRENCH, private(FRENCH), "/newcampaign")
    assert question.text == render(t("dialog.ask_title"), "fr")
    assert question.text != render(t("dialog.ask_title"), "en")
    refusal = await tg.say(FRENCH, private(FRENCH), "ab")
    assert render(t("title.too_short", min=3), "fr") in refusal.text


async def test_commands_are_published_in_english_and_french(
    tg: Driver, api: FakeTelegramApi
) -> None:
    english = {c["command"]: c["description"] for c in api.commands[("default", "")]}
    french = {c["command"]: c["description"] for c in api.commands[("default", "fr")]}
    assert {"start", "newcampaign", "promote", "mypledges", "forget"} <= set(english)
    assert english.keys() == french.keys()
    assert english["newcampaign"] == "Create a campaign"
    assert french["newcampaign"] == "Créer une campagne"


async def test_newcampaign_in_a_group_points_to_the_private_chat(tg: Driver) -> None:
    answer = await tg.say(ORGANISER, GROUP, "/newcampaign")
    assert answer.text == render(t("telegram.newcampaign_in_private"), "en")
    assert urls(answer) == [f"https://t.me/{BOT_USERNAME}?start=new"]
    # following the link opens the dialog in private
    question = await tg.say(ORGANISER, private(ORGANISER), "/start new")
    assert question.text == render(t("dialog.ask_title"), "en")
    assert callbacks(question) == ["dlg:cancel"]


async def test_private_commands_in_a_group_point_to_the_private_chat(tg: Driver) -> None:
    answer = await tg.say(STRANGER, GROUP, "/mypledges")
    assert answer.text == render(t("telegram.private_only"), "en")
    assert urls(answer) == [f"https://t.me/{BOT_USERNAME}"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("/frobnicate", "telegram.unknown_command"),
        ("hello there", "telegram.unknown_text"),
        ("/cancel", "dialog.none_active"),
        ("/unpledge", "telegram.usage_unpledge"),
        ("/cancelcampaign", "telegram.usage_cancelcampaign"),
        ("/promote", "telegram.channel.usage"),
    ],
)
async def test_unknown_or_incomplete_input_gets_a_helpful_line(
    tg: Driver, text: str, key: str
) -> None:
    answer = await tg.say(STRANGER, private(STRANGER), text)
    assert answer.text == render(t(key), "en")


async def test_unknown_ref_is_explained(tg: Driver) -> None:
    answer = await tg.say(STRANGER, private(STRANGER), "/start ZZZZZZ")
    assert answer.text == render(t("campaign.not_found", ref="ZZZZZZ"), "en")


async def test_an_unknown_button_gets_an_alert(tg: Driver, api: FakeTelegramApi) -> None:
    message = (await tg.say(STRANGER, private(STRANGER), "/help")).result
    answer = await tg.press_raw(STRANGER, message, "mystery:1")
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == render(t("telegram.unknown_button"), "en")


async def test_the_token_never_reaches_the_logs(
    tg: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await tg.say(STRANGER, private(STRANGER), "/help")
    await tg.say(STRANGER, private(STRANGER), "/start")
    assert caplog.records, "expected some log lines to inspect"
    assert FAKE_TOKEN not in caplog.text
    secret_part = FAKE_TOKEN.split(":")[1]
    assert secret_part not in caplog.text


async def test_a_non_text_message_in_private_gets_a_helpful_line(
    tg: Driver, api: FakeTelegramApi
) -> None:
    since = api.mark()
    api.inject(
        {
            "message": {
                "message_id": 99,
                "date": 1_900_000_000,
                "chat": private(STRANGER),
                "from": STRANGER,
                "location": {"latitude": 48.85, "longitude": 2.35},
            }
        }
    )
    answer = await api.wait_for("sendMessage", lambda c: c.chat_id == STRANGER["id"], since=since)
    assert answer.text == render(t("telegram.not_text"), "en")


async def test_plain_talk_in_a_group_gets_no_answer(tg: Driver, api: FakeTelegramApi) -> None:
    since = api.mark()
    api.say(STRANGER, GROUP, "nice weather today")
    await tg.settle(STRANGER)  # the group line was handled before this answer
    assert api.find("sendMessage", lambda c: c.chat_id == GROUP["id"], since) == []


async def test_a_rejected_token_is_reported_without_the_token(
    api: FakeTelegramApi, core: Chorus
) -> None:
    wrong = "987654321:wrong-token-not-real"
    settings = core.settings.model_copy(update={"telegram_bot_token": SecretStr(wrong)})
    front = TelegramInbound(build_application(settings), replace(core.chat, settings=settings))
    with pytest.raises(SettingsError) as error:
        await front.start()
    await front.stop()
    assert "TELEGRAM_BOT_TOKEN was rejected" in str(error.value)
    assert wrong not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert api.find("getUpdates") == []
