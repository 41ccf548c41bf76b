"""Telegram users, chats and messages as the core's platform-neutral references."""

from __future__ import annotations

from telegram import Chat, Message, User

from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.i18n import pick_language

PLATFORM = "telegram"
# The pseudo chat of messages sent through inline mode: they have no chat the bot knows,
# only an ``inline_message_id`` (the ``MessageRef.id``). Real chat ids are numbers or
# ``@names``, so this never collides.
INLINE_CHAT = "inline"


def inline_message_ref(inline_message_id: str) -> MessageRef:
    return MessageRef(ChatRef(PLATFORM, INLINE_CHAT), inline_message_id)


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
