"""Builders for Discord's JSON payloads (users, guilds, messages, interactions).

Shapes follow the Discord API v10 documentation, so discord.py parses them exactly as
it parses the real gateway's; tests say "user U presses button B on message M" instead
of pasting JSON.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

# A fixed epoch keeps snowflakes well-formed (timestamp bits) and deterministic.
_DISCORD_EPOCH_MS = 1_420_070_400_000
_counter = itertools.count(1)

MANAGE_GUILD = 1 << 5
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | (1 << 16) | (1 << 31)  # + history, slash
ADMIN_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_GUILD

TEXT_CHANNEL = 0
DM_CHANNEL = 1

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5


def snowflake() -> str:
    """A new, unique, well-formed snowflake id as Discord sends them (a string)."""
    ms = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000) - _DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(
    user_id: str, username: str, *, global_name: str | None = None, bot: bool = False
) -> dict:
    payload: dict[str, Any] = {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        payload["bot"] = True
    return payload


def role(role_id: str, name: str, *, permissions: int = 0, position: int = 1) -> dict:
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member(user_payload: dict, *, roles: list[str] = (), permissions: int | None = None) -> dict:  # type: ignore[assignment]
    payload: dict[str, Any] = {
        "user": user_payload,
        "nick": None,
        "avatar": None,
        "roles": list(roles),
        "joined_at": "2029-06-01T12:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def text_channel(channel_id: str, guild_id: str, name: str, *, position: int = 0) -> dict:
    return {
        "id": channel_id,
        "type": TEXT_CHANNEL,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def dm_channel(channel_id: str, recipient: dict) -> dict:
    return {
        "id": channel_id,
        "type": DM_CHANNEL,
        "last_message_id": None,
        "recipients": [recipient],
        "flags": 0,
    }


def guild(
    guild_id: str,
    name: str,
    *,
    owner_id: str,
    channels: list[dict],
    roles: list[dict],
    members: list[dict],
    locale: str = "en-US",
) -> dict:
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": locale,
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        # GUILD_CREATE extras
        "joined_at": "2029-06-01T12:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def message(
    message_id: str,
    channel_id: str,
    author: dict,
    *,
    content: str = "",
    embeds: list[dict] = (),  # type: ignore[assignment]
    components: list[dict] = (),  # type: ignore[assignment]
    flags: int = 0,
    guild_id: str | None = None,
    interaction_id: str | None = None,
) -> dict:
    payload: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": list(embeds),
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": list(components),
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
    if interaction_id is not None:
        payload["interaction_metadata"] = {
            "id": interaction_id,
            "type": 2,
            "user": author,
            "authorizing_integration_owners": {},
        }
    return payload


def _interaction(
    kind: int,
    data: dict | None,
    *,
    application_id: str,
    who: dict,
    channel: dict,
    guild_id: str | None,
    locale: str,
    guild_locale: str | None,
    message_payload: dict | None = None,
) -> dict:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": application_id,
        "type": kind,
        "token": f"interaction-token-not-real-{snowflake()}",
        "version": 1,
        "channel_id": channel["id"],
        "channel": channel,
        "locale": locale,
        "app_permissions": str(ADMIN_PERMISSIONS),
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id} if guild_id else {"1": who["id"]},
        "context": 0 if guild_id else 1,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if data is not None:
        payload["data"] = data
    if guild_id is not None:
        payload["guild_id"] = guild_id
        payload["guild"] = {"id": guild_id, "locale": guild_locale or locale, "features": []}
        payload["guild_locale"] = guild_locale or locale
        payload["member"] = who
    else:
        payload["user"] = who
    if message_payload is not None:
        payload["message"] = message_payload
    return payload


def slash_command(
    name: str,
    options: dict[str, str] | None = None,
    *,
    command_id: str = "0",
    **context: Any,
) -> dict:
    """A chat-input command (``/name opt:value``) as an INTERACTION_CREATE payload."""
    data: dict[str, Any] = {
        "id": command_id,
        "name": name,
        "type": 1,
        "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()],
    }
    if context.get("guild_id"):
        data["guild_id"] = context["guild_id"]
    return _interaction(APPLICATION_COMMAND, data, **context)


def button_press(custom_id: str, message_payload: dict, **context: Any) -> dict:
    """A press on the button ``custom_id`` under ``message_payload``."""
    data = {"custom_id": custom_id, "component_type": 2}
    return _interaction(MESSAGE_COMPONENT, data, message_payload=message_payload, **context)


def modal_submit(
    custom_id: str, values: dict[str, str], *, labelled: bool = True, **context: Any
) -> dict:
    """A modal submission; ``labelled`` uses Label components (type 18), else action rows."""
    components: list[dict[str, Any]] = []
    for index, (field, value) in enumerate(values.items(), start=1):
        text_input = {"type": 4, "id": index * 2, "custom_id": field, "value": value}
        if labelled:
            components.append({"type": 18, "id": index * 2 - 1, "component": text_input})
        else:
            components.append({"type": 1, "id": index * 2 - 1, "components": [text_input]})
    data = {"custom_id": custom_id, "components": components}
    return _interaction(MODAL_SUBMIT, data, **context)
