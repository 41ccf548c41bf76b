"""The outbound side of the Discord front end: the core's ``ChatFrontEnd`` port.

Built from the settings and the process's one ``discord.Client`` alone, so the notifier
(and through it every service) can be built before the inbound side, which needs those
services. It sends once the inbound side has logged the client in.
"""

from __future__ import annotations

import contextlib
import logging

import discord

from adapters.discord.identity import PLATFORM
from adapters.discord.rendering import Renderer
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.ports import Unreachable
from bot.settings import Settings

log = logging.getLogger(__name__)

CANNOT_MESSAGE_USER = 50007  # Discord's code for closed DMs (or no shared server)


def new_client(*, guild_ready_timeout: float = 2.0) -> discord.Client:
    """The client both sides share (guild events only; not logged in yet)."""
    intents = discord.Intents.none()
    intents.guilds = True
    return discord.Client(intents=intents, guild_ready_timeout=guild_ready_timeout)


class DiscordOutbound:
    """What the core sends to Discord: cards, edits, DMs and moderation messages."""

    platform = PLATFORM

    def __init__(self, settings: Settings, client: discord.Client) -> None:
        self.settings = settings
        self.client = client
        self.renderer = Renderer(settings.timezone)

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        channel = self.client.get_partial_messageable(int(chat.id))
        posted = await channel.send(**self.renderer.as_embed(message, language).send_kwargs())
        return MessageRef(chat, str(posted.id))

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        channel = self.client.get_partial_messageable(int(ref.chat.id))
        target = channel.get_partial_message(int(ref.id))
        await target.edit(**self.renderer.as_embed(message, language).edit_kwargs())

    async def delete(self, ref: MessageRef) -> None:
        channel = self.client.get_partial_messageable(int(ref.chat.id))
        with contextlib.suppress(discord.NotFound):  # already gone, as wanted
            await channel.get_partial_message(int(ref.id)).delete()

    async def message_link(self, ref: MessageRef) -> str | None:
        """``https://discord.com/channels/{guild}/{channel}/{message}`` for a message in a
        server channel; None for a direct message (no server, and no one else may open it)."""
        channel = self.client.get_channel(int(ref.chat.id))
        if channel is None:
            channel = await self.client.fetch_channel(int(ref.chat.id))
        guild = getattr(channel, "guild", None)
        if guild is None:
            return None
        return f"https://discord.com/channels/{guild.id}/{ref.chat.id}/{ref.id}"

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        """A DM; ``Unreachable`` when Discord refuses it with 50007 (DMs closed)."""
        try:
            dm = await self.client.create_dm(discord.Object(int(user.id)))
            kwargs = self.renderer.as_content(message, user.language).send_kwargs()
            posted = await dm.send(**kwargs)
        except discord.HTTPException as exc:
            if exc.code == CANNOT_MESSAGE_USER:
                raise Unreachable(exc.text) from exc
            raise
        return MessageRef(ChatRef(PLATFORM, str(dm.id)), str(posted.id))

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        """The moderation channel, or with private moderation each listed moderator's DMs."""
        language = self.settings.default_language
        channel_id = self.settings.discord_moderation_channel_id
        if channel_id:
            return [await self.send(ChatRef(PLATFORM, channel_id), message, language)]
        if not self.settings.discord_private_moderation:
            return []
        posted: list[MessageRef] = []
        for moderator_id in self.settings.discord_moderator_ids:
            try:
                dm = await self.client.create_dm(discord.Object(int(moderator_id)))
                sent = await dm.send(**self.renderer.as_embed(message, language).send_kwargs())
            except (discord.HTTPException, ValueError) as exc:  # DMs closed, not an id
                log.warning("moderator %s cannot get campaigns by DM: %s", moderator_id, exc)
                continue
            posted.append(MessageRef(ChatRef(PLATFORM, str(dm.id)), str(sent.id)))
        return posted
