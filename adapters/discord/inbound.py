"""The inbound side of the Discord front end: slash commands, buttons and forms.

Built last, with the shared ``discord.Client`` and the chat services; the command tree,
the persistent buttons and the modal routing are set on that client here. ``start``
logs in and syncs the slash commands if they changed; ``stop`` closes everything. A
discord.py client cannot log in again once closed, so a stopped front end is not started
again: a restart builds new ones. The REST base and the gateway come from the settings,
so the same code runs against Discord and against the loopback fake in the tests.

Discord allows one gateway session per shard, so with several processes only one holds
it; commands, buttons and forms reach that one. ``DiscordGateway`` connects and closes
it on the same client, as often as needed: with DISCORD_GATEWAY=auto it is the leader's
duty "discord gateway" (closed the moment the process stops leading, opened by the next
leader); with DISCORD_GATEWAY=on the front end holds it for its whole life
(``gateway=True``, also a lone process in the tests); with off, never. The others only
log in: the outbound side (cards, edits, DMs, moderation messages) is discord.py's REST
client, which needs no gateway.
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
from bot.settings import Settings

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
        self._gateway = (
            DiscordGateway(client, services.settings, ready_timeout=ready_timeout)
            if gateway
            else None
        )

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
            if self.settings.discord_gateway != "off":  # this process may hold the gateway
                await sync_if_changed(self.tree, client.application_id, self.settings.data_dir)
        except discord.LoginFailure as exc:
            await self.stop()
            raise DiscordStartError("Discord refused DISCORD_BOT_TOKEN") from exc
        except (discord.HTTPException, OSError) as exc:
            await self.stop()
            raise DiscordStartError(f"could not reach the Discord API: {exc}") from exc
        if self._gateway is None:
            log.info("Discord front end sending only: the gateway is held elsewhere or later")
            return
        try:
            await self._gateway.start()
        except DiscordStartError:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._gateway is not None:
            await self._gateway.stop()
        if not self.client.is_closed():
            await self.client.close()


class DiscordGateway:
    """The gateway connection of a logged-in client: ``start`` connects it and returns
    once the bot is ready (or raises ``DiscordStartError`` after ``ready_timeout``);
    ``stop`` closes it at once and leaves the REST client logged in. Either may be called
    again: the leader's duty "discord gateway" with DISCORD_GATEWAY=auto."""

    def __init__(
        self, client: discord.Client, settings: Settings, *, ready_timeout: float = 60.0
    ) -> None:
        self.client = client
        self.settings = settings
        self._ready_timeout = ready_timeout
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        client = self.client
        if self._task is not None:
            return
        if client.is_closed():
            raise DiscordStartError("this Discord client was stopped; a restart builds a new one")
        try:
            gateway = self.settings.discord_gateway_url
            if not gateway:
                _, gateway, _ = await client.http.get_bot_gateway()
        except (discord.HTTPException, OSError) as exc:
            raise DiscordStartError(f"could not reach the Discord API: {exc}") from exc
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        # listen before connecting: a second connection's READY must be the one awaited
        ready = asyncio.create_task(client.wait_for("ready"), name="discord-ready")
        self._task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
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
        log.info("Discord gateway connected as %s", client.user)

    def failure(self) -> str | None:
        """Why the connection stopped for good since ``start`` (discord.py reconnects by
        itself after a drop; it gives up on a refused token or intents), else None."""
        task = self._task
        if task is None or not task.done():
            return None
        if task.cancelled():
            return "cancelled"
        failure = task.exception()
        return "closed" if failure is None else f"{type(failure).__name__}: {failure}"

    async def stop(self) -> None:
        """Stop the reconnecting loop first (or it would reconnect), then close the socket."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        socket = self.client.ws
        if socket is not None and socket.open:
            with contextlib.suppress(Exception):  # gone already: nothing left to close
                await socket.close(code=1000)
        log.info("Discord gateway closed")
