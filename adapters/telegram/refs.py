"""Telegram users, chats and messages as the core's platform-neutral references."""

from __future__ import annotations

from telegram import Chat, Message, User

from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.i18n import pick_language

PLATFORM = "telegram"


def user_ref(user: User, default_language: str = "en") -> UserRef:
    return UserRef(
        PLATFORM, str(user.id), user.full_name, pick_language(user.language_code, default_language)
    )


def chat_ref(chat: Chat | int | str) -> ChatRef:
    chat_id = chat.id if isinstance(chat, Chat) else chat
    return ChatRef(PLATFORM, str(chat_id))


def message_ref(message: Message) -> MessageRef:
    return MessageRef(chat_ref(message.chat), str(message.message_id))


def private_chat_of(user: UserRef) -> int:
    """A user's private chat with the bot has the user's id."""
    return int(user.id)
