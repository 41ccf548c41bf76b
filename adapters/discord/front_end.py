"""The Discord front end: the core's ``ChatFrontEnd`` port over discord.py.

``start`` logs in, syncs the slash commands if they changed, connects the gateway in a
background task and returns once the bot is ready (or raises after a timeout);
``stop`` closes everything. The REST base and the gateway come from the settings, so
the same code runs against Discord and against the loopback fake in the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import discord.http
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.command_sync import sync_if_changed
from adapters.discord.commands import CatalogueTranslator, build_tree
from adapters.discord.components import ActionButton
from adapters.discord.handlers import InteractionHandlers
from adapters.discord.identity import PLATFORM
from adapters.discord.rendering import Renderer
from bot.app import Chorus
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef

log = logging.getLogger(__name__)


class DiscordStartError(RuntimeError):
    """The bot could not log in or connect; the message says why."""


class ChorusClient(discord.Client):
    """discord.py's client with our command tree, persistent buttons and modal routing."""

    def __init__(self, handlers: InteractionHandlers, *, guild_ready_timeout: float) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, guild_ready_timeout=guild_ready_timeout)
        self.handlers = handlers
        self.tree = build_tree(self, handlers)

    async def setup_hook(self) -> None:
        # Buttons on any message, however old, are rebuilt from their custom id.
        self.add_dynamic_items(ActionButton)
        await self.tree.set_translator(CatalogueTranslator())

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.handlers.on_modal(interaction)


class DiscordFrontEnd:
    """``ChatFrontEnd`` for Discord, plus ``start`` / ``stop``."""

    platform = PLATFORM

    def __init__(
        self,
        core: Chorus,
        *,
        ready_timeout: float = 60.0,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self.core = core
        self.settings = core.settings
        self.renderer = Renderer(core.settings.timezone)
        self.handlers = InteractionHandlers(core, self.renderer)
        self._ready_timeout = ready_timeout
        self._guild_ready_timeout = guild_ready_timeout
        self._client: ChorusClient | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> ChorusClient:
        if self._client is None:
            raise RuntimeError("the Discord front end is not started")
        return self._client

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        token = self.settings.discord_bot_token
        if token is None:
            raise DiscordStartError("DISCORD_BOT_TOKEN is not set")
        # discord.py builds every REST URL (webhooks and interactions too) from Route.BASE.
        discord.http.Route.BASE = self.settings.discord_api_url.rstrip("/")
        client = ChorusClient(self.handlers, guild_ready_timeout=self._guild_ready_timeout)
        self._client = client
        try:
            await client.login(token.get_secret_value())
            gateway = self.settings.discord_gateway_url
            if not gateway:
                _, gateway, _ = await client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
            await sync_if_changed(client.tree, client.application_id, self.settings.data_dir)
        except discord.LoginFailure as exc:
            await self.stop()
            raise DiscordStartError("Discord refused DISCORD_BOT_TOKEN") from exc
        except (discord.HTTPException, OSError) as exc:
            await self.stop()
            raise DiscordStartError(f"could not reach the Discord API: {exc}") from exc
        self._task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            failure = self._task.exception() if self._task in done else None
            await self.stop()
            raise DiscordStartError(
                f"the Discord gateway did not become ready: {failure or 'timed out'}"
            )
        log.info("Discord front end ready as %s", client.user)

    async def stop(self) -> None:
        client, task = self._client, self._task
        self._client, self._task = None, None
        if client is not None and not client.is_closed():
            await client.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---------------------------------------------------- the ChatFrontEnd port

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

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        dm = await self.client.create_dm(discord.Object(int(user.id)))
        posted = await dm.send(**self.renderer.as_content(message, user.language).send_kwargs())
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
