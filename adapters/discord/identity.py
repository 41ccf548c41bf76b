"""Who is acting on Discord, in which language, and whether they may moderate.

The only place that turns discord.py's users, members and locales into the core's
``UserRef`` / ``ChatRef`` values.
"""

from __future__ import annotations

from collections.abc import Collection

import discord

from bot.domain.refs import ChatRef, UserRef
from bot.i18n import pick_language

PLATFORM = "discord"


def language_of(interaction: discord.Interaction, default: str = "en") -> str:
    """The reader's language, from the locale of their Discord client."""
    return pick_language(str(interaction.locale), default)


def community_language(interaction: discord.Interaction, default: str = "en") -> str:
    """The language of a public card: the server's locale, else the caller's."""
    locale = interaction.guild_locale or interaction.locale
    return pick_language(str(locale), default)


def user_ref(user: discord.abc.User, language: str) -> UserRef:
    return UserRef(PLATFORM, str(user.id), user.display_name, language)


def chat_ref(channel_id: int | None) -> ChatRef | None:
    return ChatRef(PLATFORM, str(channel_id)) if channel_id is not None else None


def is_admin(interaction: discord.Interaction) -> bool:
    """Manage Server in this guild (resolved by Discord for the interaction's channel)."""
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def is_moderator(
    interaction: discord.Interaction,
    moderator_role_id: str | None,
    moderator_ids: Collection[str] = (),
) -> bool:
    """Manage Server, the configured moderator role, or a listed moderator id (the only
    way to be recognised in a direct message, where there are no roles)."""
    if is_admin(interaction) or str(interaction.user.id) in moderator_ids:
        return True
    user = interaction.user
    if not moderator_role_id or not isinstance(user, discord.Member):
        return False
    try:
        role_id = int(moderator_role_id)
    except ValueError:
        return False
    return any(role.id == role_id for role in user.roles)
