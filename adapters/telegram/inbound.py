"""The inbound side of the Telegram front end: commands and buttons, over python-telegram-bot.

Built last, with the shared ``Application`` and the chat services; its handlers go into
the application here. ``start()`` initialises the application (getMe) and starts handling
updates; ``stop()`` undoes it. Every process does that: with TELEGRAM_WEBHOOK=true any
process's web app takes Telegram's POSTs (``adapters.telegram.webhook``).

How updates reach the deployment is the leader's alone (``TelegramIntake``, the
"telegram intake" duty): it publishes the command menu in every language and either
registers the webhook (idempotent: each new leader sets it again) or polls, which removes
any webhook left from an earlier run; Telegram refuses two ``getUpdates`` callers at once
(409 Conflict), so polling stops the moment the process stops leading. A lone front end
(``intake=True``: the tests, the benchmarks) runs its intake itself. The token never
reaches a log line.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.error import InvalidToken
from telegram.ext import Application

from adapters.telegram.channels import ChannelHandlers
from adapters.telegram.client import RedactToken
from adapters.telegram.edits import EditHandlers
from adapters.telegram.fallback import FallbackHandlers
from adapters.telegram.groups import GroupHandlers
from adapters.telegram.inline import InlineHandlers
from adapters.telegram.kit import Kit
from adapters.telegram.moderation import ModerationHandlers
from adapters.telegram.organiser import OrganiserHandlers
from adapters.telegram.post_now import PostNowHandlers
from adapters.telegram.render import Renderer
from adapters.telegram.stats import StatsHandlers
from adapters.telegram.supporters import SupporterHandlers
from adapters.telegram.updates import UpdateHandlers
from adapters.telegram.webhook import webhook_secret, webhook_url
from adapters.telegram.welcome import WelcomeHandlers
from bot.domain.text import t
from bot.i18n import supported_languages
from bot.services.chat_services import ChatServices
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "help",
    "newcampaign",
    "cancel",
    "mycampaigns",
    "cancelcampaign",
    "update",
    "stats",
    "editcampaign",
    "resubmit",
    "promote",
    "pending",
    "mypledges",
    "unpledge",
    "forget",
    "status",
)
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.CHOSEN_INLINE_RESULT,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]


class TelegramInbound:
    """One bot account serving organisers, moderators and supporters."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        services: ChatServices,
        *,
        poll_timeout: float = 10.0,
        intake: bool = True,
    ) -> None:
        self.application = application
        self.services = services
        # intake=False: a TelegramIntake is a leader duty of the process (chat_platforms)
        self._intake = (
            TelegramIntake(application, services.settings, poll_timeout=poll_timeout)
            if intake
            else None
        )
        self._redact = RedactToken(application.bot.token)
        self.kit = Kit(services, application.bot)
        self.organiser = OrganiserHandlers(self.kit)
        self.supporters = SupporterHandlers(self.kit)
        self.moderation = ModerationHandlers(self.kit)
        post_now = PostNowHandlers(self.kit)
        groups = [
            WelcomeHandlers(self.kit, self.organiser, self.supporters, post_now).handlers(),
            post_now.handlers(),
            self.organiser.handlers(),
            self.supporters.handlers(),
            ChannelHandlers(self.kit).handlers(),  # before groups: /promote in private
            UpdateHandlers(self.kit).handlers(),
            StatsHandlers(self.kit, self.moderation.may_moderate).handlers(),
            EditHandlers(self.kit).handlers(),
            GroupHandlers(self.kit).handlers(),
            self.moderation.handlers(),
            InlineHandlers(self.kit).handlers(),
            FallbackHandlers(self.kit, self.organiser, self.moderation).handlers(),
        ]
        for handlers in groups:
            self.application.add_handlers(handlers)

    async def start(self) -> None:
        """Connect and handle what arrives; with its own intake, also publish the commands
        and set the webhook or start polling. Returns once updates are taken."""
        logging.getLogger("httpx").addFilter(self._redact)
        try:
            await self.application.initialize()
        except InvalidToken:
            # PTB's own message quotes the token; say the same without it.
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather"
            ) from None
        await self.application.start()  # handles what the updater or the webhook queues
        if self._intake is not None:
            await self._intake.start()
        if self.services.settings.telegram_webhook:
            how = "by webhook"
        elif self._intake is not None:
            how = "by long polling"
        else:
            how = "by long polling while this process leads"
        log.info(
            "telegram front end started as @%s, updates %s", self.application.bot.username, how
        )

    async def stop(self) -> None:
        try:
            if self._intake is not None:
                await self._intake.stop()
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
        finally:
            logging.getLogger("httpx").removeFilter(self._redact)
        log.info("telegram front end stopped")


class TelegramIntake:
    """The leader's duty "telegram intake": Telegram sends this deployment its updates.

    ``start`` publishes the command menu, then sets the webhook (TELEGRAM_WEBHOOK=true) or
    starts long polling (which deletes any webhook first); ``stop`` stops polling at once
    and leaves a webhook in place (every process still serves it). Started again by the
    next take-over. The application must be initialised and started (``TelegramInbound``).
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        settings: Settings,
        *,
        poll_timeout: float = 10.0,
    ) -> None:
        self.application = application
        self.settings = settings
        self._poll_timeout = poll_timeout

    async def start(self) -> None:
        await self._publish_commands()
        if self.settings.telegram_webhook:
            await self._set_webhook()
            log.info("telegram intake: webhook set")
            return
        updater = self.application.updater
        assert updater is not None
        if not updater.running:
            await updater.start_polling(  # deletes any webhook first
                timeout=int(self._poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        log.info("telegram intake: long polling")

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
            log.info("telegram intake: long polling stopped")

    async def _set_webhook(self) -> None:
        """Point Telegram at this deployment's web app; updates waiting are kept."""
        await self.application.bot.set_webhook(
            url=webhook_url(self.settings),
            secret_token=webhook_secret(self.settings),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )

    async def _publish_commands(self) -> None:
        bot = self.application.bot
        renderer = Renderer(bot.username, self.settings.timezone)
        default = self.settings.default_language
        for language in (None, *supported_languages()):
            commands = [
                BotCommand(name, renderer.text(t(f"telegram.command.{name}"), language or default))
                for name in COMMANDS
            ]
            await bot.set_my_commands(commands, language_code=language)
