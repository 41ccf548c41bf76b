"""The renderer alone: paragraphs, deep links for Support, callback data within
Telegram's 64 bytes, and texts clipped to Telegram's limits."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from adapters.telegram.render import Renderer, RenderError
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import t

RENDERER = Renderer("chorus_test_bot", ZoneInfo("Europe/Paris"))


def test_parts_become_paragraphs_in_the_language_and_time_zone() -> None:
    message = OutgoingMessage.of(t("unpledge.none", ref="K7QX2M"), t("dialog.ask_goal"))
    text = RENDERER.message_text(message, "fr")
    none, goal = text.split("\n\n")
    assert none == "Vous n'avez pas de soutien pour K7QX2M."
    assert goal.startswith("Combien")


def test_support_is_a_deep_link_and_other_actions_are_callback_data() -> None:
    message = OutgoingMessage.of(
        t("telegram.help"),
        buttons=(
            (Button(t("button.support"), action="support:K7QX2M"),),
            (
                Button(t("button.approve"), action="approve:12"),
                Button(t("button.pledge"), url="https://example.org/p"),
            ),
        ),
    )
    markup = RENDERER.keyboard(message, "en")
    assert markup is not None
    (support,), (approve, pledge) = markup.inline_keyboard
    assert support.url == "https://t.me/chorus_test_bot?start=K7QX2M"
    assert support.callback_data is None
    assert approve.callback_data == "approve:12" and approve.text == "Approve"
    assert pledge.url == "https://example.org/p"


def test_no_buttons_means_no_keyboard() -> None:
    assert RENDERER.keyboard(OutgoingMessage.of(t("telegram.help")), "en") is None


def test_callback_data_longer_than_64_bytes_is_refused() -> None:
    message = OutgoingMessage.of(
        t("telegram.help"), buttons=((Button(t("button.done"), action="dlg:" + "é" * 31),),)
    )
    with pytest.raises(RenderError):
        RENDERER.keyboard(message, "en")


def test_long_texts_are_clipped_to_telegrams_limit() -> None:
    message = OutgoingMessage.of(t("card.message", message="x" * 5000))
    text = RENDERER.message_text(message, "en")
    assert len(text) == 4096
    assert text.endswith("…")
