"""Turns the core's ``OutgoingMessage`` into Telegram text and an inline keyboard.

Plain text (no parse mode), so a campaign message full of ``_`` and ``*`` is shown as
typed. Button actions become callback data, except ``support:<ref>`` which becomes a
deep link into the bot's private chat (``https://t.me/<bot>?start=<ref>``), because a
pledge link is personal and must be issued in private.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
from telegram.helpers import create_deep_linked_url

from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.refs import ChatRef
from bot.domain.text import Text
from bot.i18n import render
from bot.services.cards import SUPPORT_ACTION
from bot.services.sources import with_chat

PARAGRAPH = "\n\n"
ALERT_LIMIT = 200  # characters Telegram shows in a callback answer
ELLIPSIS = "…"
START_PAYLOAD_LIMIT = 64  # characters Telegram allows after ?start=


class RenderError(ValueError):
    """A message cannot be shown on Telegram as built (a programming error)."""


class Renderer:
    """Renders texts in a language and time zone, and builds keyboards."""

    def __init__(self, bot_username: str, tz: ZoneInfo) -> None:
        self.bot_username = bot_username
        self.tz = tz

    def text(self, text: Text, language: str) -> str:
        return render(text, language, self.tz)

    def message_text(self, message: OutgoingMessage, language: str) -> str:
        body = PARAGRAPH.join(self.text(part, language) for part in message.parts)
        return clip(body, MessageLimit.MAX_TEXT_LENGTH)

    def keyboard(
        self, message: OutgoingMessage, language: str, chat: ChatRef | None = None
    ) -> InlineKeyboardMarkup | None:
        """``chat``: where the message goes; a group's Support links then name it."""
        rows = [[self.button(b, language, chat) for b in row] for row in message.buttons if row]
        return InlineKeyboardMarkup(rows) if rows else None

    def button(
        self, button: Button, language: str, chat: ChatRef | None = None
    ) -> InlineKeyboardButton:
        label = clip(self.text(button.label, language), 64)
        if button.url:
            return InlineKeyboardButton(label, url=button.url)
        action = button.action or ""
        kind, _, argument = action.partition(":")
        if kind == SUPPORT_ACTION and argument:
            return InlineKeyboardButton(label, url=self.deep_link(support_payload(argument, chat)))
        if not action or len(action.encode()) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
            raise RenderError(f"button action does not fit Telegram callback data: {action!r}")
        return InlineKeyboardButton(label, callback_data=action)

    def deep_link(self, payload: str = "") -> str:
        """``https://t.me/<bot>?start=<payload>``: opens the private chat with the bot."""
        return create_deep_linked_url(self.bot_username, payload or None)


def support_payload(ref: str, chat: ChatRef | None) -> str:
    """``REF``, or ``REF_c<chat id>`` for a card in a group or channel (negative ids:
    private chats have the user's positive id, inline messages no chat), when it fits."""
    if chat is None or not chat.id.startswith("-"):
        return ref
    payload = with_chat(ref, chat.id)
    return payload if len(payload) <= START_PAYLOAD_LIMIT else ref


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
