"""The inbound side of the Discord front end: slash commands, buttons and forms.

Built last, with the shared ``discord.Client`` and the chat services; the command tree,
the persistent buttons and the modal routing are set on that client here. ``start``
logs in, syncs the slash commands if they changed, connects the gateway in a background
task and returns once the bot is ready (or raises after a timeout); ``stop`` closes
everything. A discord.py client cannot connect again once closed, so a stopped front
end is not started again: a restart builds new ones. The REST base and the gateway come
from the settings, so the same code runs against Discord and against the loopback fake
in the tests.

Discord allows one gateway session per shard, so with several processes only one holds
it (``gateway``: DISCORD_GATEWAY, or the leading process); commands, buttons and forms
reach that one. The others only log in: the outbound side (cards, edits, DMs, moderation
messages) is discord.py's REST client, which needs no gateway.
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
from adapters.discord.rendering import Renderer
from bot.services.chat_services import ChatServices

log = logging.getLogger(__name__)


class DiscordStartError(RuntimeError):
    """The bot could not log in or connect; the message says why."""


class DiscordInbound:
    """The interactions of one Discord bot, plus ``start`` / ``stop``."""

    def __init__(
        self,
        client: discord.Client,
        services: ChatServices,
        *,
        ready_timeout: float = 60.0,
        gateway: bool = True,
    ) -> None:
        self.client = client
        self.settings = services.settings
        self.handlers = InteractionHandlers(services, Renderer(services.settings.timezone))
        self.tree = build_tree(client, self.handlers)
        # Buttons on any message, however old, are rebuilt from their custom id.
        client.add_dynamic_items(ActionButton)
        client.event(self.on_interaction)
        client.event(self.on_chorus_button)
        self._ready_timeout = ready_timeout
        self._gateway = gateway
        self._task: asyncio.Task[None] | None = None

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.handlers.on_modal(interaction)

    async def on_chorus_button(self, interaction: discord.Interaction, action: str) -> None:
        """An ``ActionButton`` was pressed (its callback dispatches this event)."""
        await self.handlers.on_button(interaction, action)

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        token = self.settings.discord_bot_token
        if token is None:
            raise DiscordStartError("DISCORD_BOT_TOKEN is not set")
        client = self.client
        if client.is_closed():
            raise DiscordStartError("this Discord client was stopped; a restart builds a new one")
        # discord.py builds every REST URL (webhooks and interactions too) from Route.BASE.
        discord.http.Route.BASE = self.settings.discord_api_url.rstrip("/")
        await self.tree.set_translator(CatalogueTranslator())
        try:
            await client.login(token.get_secret_value())
            if not self._gateway:
                log.info("Discord front end sending only: another process holds the gateway")
                return
            gateway = self.settings.discord_gateway_url
            if not gateway:
                _, gateway, _ = await client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
            await sync_if_changed(self.tree, client.application_id, self.settings.data_dir)
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
        client, task = self.client, self._task
        self._task = None
        if not client.is_closed():
            await client.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
