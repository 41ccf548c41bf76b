"""Builders for Telegram Bot API payloads (users, chats, messages, updates).

Tests describe "a message from user U in chat C" in one call instead of pasting JSON;
the shapes follow https://core.telegram.org/bots/api so the real python-telegram-bot
parses them exactly as it parses Telegram's own.
"""

from __future__ import annotations

import re
import time
from typing import Any

JSON = dict[str, Any]

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,64})?")


def user(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> JSON:
    """A Telegram ``User`` object."""
    data: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        data["last_name"] = last_name
    if username:
        data["username"] = username
    if language_code:
        data["language_code"] = language_code
    return data


def private_chat(person: JSON) -> JSON:
    """The private chat between the bot and ``person`` (its id is the user's id)."""
    data: JSON = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    if "last_name" in person:
        data["last_name"] = person["last_name"]
    return data


def group_chat(chat_id: int, title: str) -> JSON:
    """A supergroup (Telegram ids of supergroups are negative, ``-100…``)."""
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return {"id": chat_id, "type": "supergroup", "title": title}


def channel_chat(chat_id: int, title: str, username: str | None = None) -> JSON:
    """A broadcast channel (ids ``-100…``); public ones have a ``username``."""
    if chat_id >= 0:
        raise ValueError("channel ids are negative")
    data: JSON = {"id": chat_id, "type": "channel", "title": title}
    if username:
        data["username"] = username
    return data


def full_chat(chat: JSON) -> JSON:
    """The ``ChatFullInfo`` that ``getChat`` answers for ``chat``."""
    gifts = dict.fromkeys(
        (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        ),
        False,
    )
    return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


def chat_for_id(chat_id: int) -> JSON:
    """A plausible chat object when only the id is known (the bot sent there)."""
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}


def command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entity Telegram adds when a text starts with ``/command``."""
    match = _COMMAND_RE.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(match.group(0))}]


def text_message(
    message_id: int,
    sender: JSON,
    chat: JSON,
    text: str,
    *,
    reply_to: JSON | None = None,
    date: int | None = None,
) -> JSON:
    """A ``Message`` with ``text`` sent by ``sender`` in ``chat``."""
    data: JSON = {
        "message_id": message_id,
        "date": date or int(time.time()),
        "chat": chat,
        "from": sender,
        "text": text,
    }
    entities = command_entities(text)
    if entities:
        data["entities"] = entities
    if reply_to is not None:
        data["reply_to_message"] = reply_to
    return data


def message_update(update_id: int, message: JSON) -> JSON:
    return {"update_id": update_id, "message": message}


def channel_post(message_id: int, channel: JSON, text: str, *, date: int | None = None) -> JSON:
    """A post in ``channel``: signed by the channel itself (``sender_chat``), no ``from``."""
    data: JSON = {
        "message_id": message_id,
        "date": date or int(time.time()),
        "chat": channel,
        "sender_chat": channel,
        "text": text,
    }
    entities = command_entities(text)
    if entities:
        data["entities"] = entities
    return data


def channel_post_update(update_id: int, message: JSON) -> JSON:
    return {"update_id": update_id, "channel_post": message}


def my_chat_member_update(
    update_id: int, chat: JSON, by: JSON, old: JSON, new: JSON, *, date: int | None = None
) -> JSON:
    """``by`` changed the bot's membership in ``chat`` from ``old`` to ``new``."""
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": chat,
            "from": by,
            "date": date or int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        },
    }


def callback_update(update_id: int, query_id: str, sender: JSON, message: JSON, data: str) -> JSON:
    """A ``CallbackQuery`` update: ``sender`` pressed a button carrying ``data``."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": f"ci{message['chat']['id']}",
            "data": data,
        },
    }


def chat_member(person: JSON, status: str, *, can_post: bool | None = None) -> JSON:
    """A ``ChatMember`` of the given status with every field PTB requires.

    ``can_post`` gives a channel administrator's posting and editing rights (Telegram
    sends them for channels only)."""
    if status == "kicked":
        return {"status": "kicked", "user": person, "until_date": 0}
    if status == "creator":
        return {"status": "creator", "user": person, "is_anonymous": False}
    if status == "administrator":
        rights = [
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        ]
        member: JSON = {
            "status": "administrator",
            "user": person,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
        }
        member.update(dict.fromkeys(rights, True))
        if can_post is not None:
            member["can_post_messages"] = can_post
            member["can_edit_messages"] = can_post
        return member
    return {"status": status, "user": person}


def buttons(message: JSON) -> list[JSON]:
    """Every inline button of a message the bot sent, row by row."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]
