"""The outbound side of the Telegram front end: the core's ``ChatFrontEnd`` port.

Built from the settings and the bot of the shared ``Application`` alone, so the notifier
(and through it every service) can be built before the inbound side, which needs those
services. It sends once the inbound side has started the application (the bot then
knows its own username, which the Support deep links need).
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.telegram.refs import INLINE_CHAT, PLATFORM, chat_ref
from adapters.telegram.render import Renderer
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.ports import MessageGone, Unreachable
from bot.settings import Settings

log = logging.getLogger(__name__)

# What Telegram answers when an inline message is deleted, or its id no longer valid.
_INLINE_GONE = ("message to edit not found", "message_id_invalid")


class TelegramOutbound:
    """What the core sends to Telegram: cards, edits, private and moderation messages."""

    platform = PLATFORM

    def __init__(self, settings: Settings, bot: Bot) -> None:
        self.settings = settings
        self.bot = bot

    @property
    def renderer(self) -> Renderer:
        """Raises ``RuntimeError`` until the application is initialised."""
        return Renderer(self.bot.username, self.settings.timezone)

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        if chat.id == INLINE_CHAT:
            raise ValueError("inline messages are placed by people, never sent by the bot")
        renderer = self.renderer
        sent = await self.bot.send_message(
            _chat_id(chat),
            renderer.message_text(message, language),
            reply_markup=renderer.keyboard(message, language, chat),
        )
        return MessageRef(chat_ref(sent.chat_id), str(sent.message_id))

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        """Edit a message; one sent through inline mode by its ``inline_message_id``, and
        ``MessageGone`` once Telegram no longer knows it."""
        renderer = self.renderer
        text = renderer.message_text(message, language)
        markup = renderer.keyboard(message, language, ref.chat)
        try:
            if ref.chat.id == INLINE_CHAT:
                await self.bot.edit_message_text(
                    text, inline_message_id=ref.id, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(
                    text, chat_id=_chat_id(ref.chat), message_id=int(ref.id), reply_markup=markup
                )
        except BadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                return
            if ref.chat.id == INLINE_CHAT and any(gone in reason for gone in _INLINE_GONE):
                raise MessageGone(exc.message) from exc
            raise

    async def delete(self, ref: MessageRef) -> None:
        if ref.chat.id == INLINE_CHAT:
            return  # the Bot API cannot delete an inline message; it is simply left be
        try:
            await self.bot.delete_message(_chat_id(ref.chat), int(ref.id))
        except BadRequest as exc:
            if "not found" not in exc.message.lower():  # else: already gone, as wanted
                raise

    async def message_link(self, ref: MessageRef) -> str | None:
        """None: the public page's Telegram link is the bot's deep link instead."""
        return None

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        """A private message; ``Unreachable`` if Telegram forbids it (the user blocked the
        bot, never started it, or is deactivated)."""
        try:
            return await self.send(ChatRef(PLATFORM, user.id), message, user.language)
        except Forbidden as exc:
            raise Unreachable(exc.message) from exc

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        """The moderation chat, or with private moderation each listed moderator."""
        settings = self.settings
        language = settings.default_language
        if settings.telegram_moderation_chat_id:
            chat = ChatRef(PLATFORM, settings.telegram_moderation_chat_id)
            return [await self.send(chat, message, language)]
        if not settings.telegram_private_moderation:
            return []
        posted: list[MessageRef] = []
        for moderator_id in settings.telegram_moderator_ids:
            try:
                posted.append(await self.send(ChatRef(PLATFORM, moderator_id), message, language))
            except TelegramError as exc:  # never opened a chat with the bot, or blocked it
                log.warning(
                    "moderator %s cannot get campaigns in private: %s", moderator_id, exc.message
                )
        return posted


def _chat_id(chat: ChatRef) -> int | str:
    """Numeric ids as numbers; ``@channelname`` stays text."""
    try:
        return int(chat.id)
    except ValueError:
        return chat.id
