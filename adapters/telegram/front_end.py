"""The Telegram front end: the core's ``ChatFrontEnd`` port over python-telegram-bot.

``start()`` initialises the application (getMe), publishes the command menu in every
language, and starts long polling in the background; ``stop()`` undoes it. Outgoing
calls go through PTB's ``AIORateLimiter``, so a flood limit (429) delays a message
instead of dropping it. The token never reaches a log line.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from adapters.telegram.fallback import FallbackHandlers
from adapters.telegram.groups import GroupHandlers
from adapters.telegram.kit import Kit
from adapters.telegram.moderation import ModerationHandlers
from adapters.telegram.organiser import OrganiserHandlers
from adapters.telegram.refs import PLATFORM, chat_ref
from adapters.telegram.supporters import SupporterHandlers
from adapters.telegram.welcome import WelcomeHandlers
from bot.app import Chorus
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.domain.text import t
from bot.i18n import supported_languages
from bot.settings import SettingsError

log = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "help",
    "newcampaign",
    "cancel",
    "mycampaigns",
    "cancelcampaign",
    "promote",
    "pending",
    "mypledges",
    "unpledge",
    "forget",
)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


class _RedactToken(logging.Filter):
    """httpx logs every request URL, and Bot API URLs contain the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<token>")
            record.args = ()
        return True


class TelegramFrontEnd:
    """One bot account serving organisers, moderators and supporters."""

    platform = PLATFORM

    def __init__(self, core: Chorus, *, poll_timeout: float = 10.0, max_retries: int = 5) -> None:
        settings = core.settings
        if settings.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is required for the Telegram front end")
        token = settings.telegram_bot_token.get_secret_value()
        api = settings.telegram_api_url.rstrip("/")
        self.core = core
        self._poll_timeout = poll_timeout
        self._redact = _RedactToken(token)
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .rate_limiter(AIORateLimiter(max_retries=max_retries))
            .concurrent_updates(True)
            .job_queue(None)
            .build()
        )
        self.kit = Kit(core)
        self.organiser = OrganiserHandlers(self.kit)
        self.supporters = SupporterHandlers(self.kit)
        self.moderation = ModerationHandlers(self.kit)
        groups = [
            WelcomeHandlers(self.kit, self.organiser, self.supporters).handlers(),
            self.organiser.handlers(),
            self.supporters.handlers(),
            GroupHandlers(self.kit).handlers(),
            self.moderation.handlers(),
            FallbackHandlers(self.kit, self.organiser, self.moderation).handlers(),
        ]
        for handlers in groups:
            self.application.add_handlers(handlers)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, publish the commands, start polling; returns once polling runs."""
        logging.getLogger("httpx").addFilter(self._redact)
        try:
            await self.application.initialize()
        except InvalidToken:
            # PTB's own message quotes the token; say the same without it.
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN was rejected by Telegram; check it with @BotFather"
            ) from None
        self.kit.bind(self.application.bot.username)
        await self._publish_commands()
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            timeout=int(self._poll_timeout), allowed_updates=ALLOWED_UPDATES
        )
        log.info("telegram front end started as @%s", self.application.bot.username)

    async def stop(self) -> None:
        updater = self.application.updater
        try:
            if updater is not None and updater.running:
                await updater.stop()
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
        finally:
            logging.getLogger("httpx").removeFilter(self._redact)
        log.info("telegram front end stopped")

    async def _publish_commands(self) -> None:
        bot = self.application.bot
        default = self.core.settings.default_language
        for language in (None, *supported_languages()):
            commands = [
                BotCommand(name, self.kit.text(t(f"telegram.command.{name}"), language or default))
                for name in COMMANDS
            ]
            await bot.set_my_commands(commands, language_code=language)

    # --- the ChatFrontEnd port -------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        renderer = self.kit.renderer
        sent = await self.application.bot.send_message(
            _chat_id(chat),
            renderer.message_text(message, language),
            reply_markup=renderer.keyboard(message, language),
        )
        return MessageRef(chat_ref(sent.chat_id), str(sent.message_id))

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        renderer = self.kit.renderer
        try:
            await self.application.bot.edit_message_text(
                renderer.message_text(message, language),
                chat_id=_chat_id(ref.chat),
                message_id=int(ref.id),
                reply_markup=renderer.keyboard(message, language),
            )
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    async def delete(self, ref: MessageRef) -> None:
        try:
            await self.application.bot.delete_message(_chat_id(ref.chat), int(ref.id))
        except BadRequest as exc:
            if "not found" not in exc.message.lower():  # else: already gone, as wanted
                raise

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        """A private message; ``Forbidden`` if the user blocked the bot (the caller logs)."""
        return await self.send(ChatRef(PLATFORM, user.id), message, user.language)

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        """The moderation chat, or with private moderation each listed moderator."""
        settings = self.core.settings
        language = settings.default_language
        if settings.telegram_moderation_chat_id:
            chat = ChatRef(PLATFORM, settings.telegram_moderation_chat_id)
            return [await self.send(chat, message, language)]
        if not settings.telegram_private_moderation:
            return []
        posted: list[MessageRef] = []
        for moderator_id in settings.telegram_moderator_ids:
            try:
                posted.append(await self.send(ChatRef(PLATFORM, moderator_id), message, language))
            except TelegramError as exc:  # never opened a chat with the bot, or blocked it
                log.warning(
                    "moderator %s cannot get campaigns in private: %s", moderator_id, exc.message
                )
        return posted


def _chat_id(chat: ChatRef) -> int | str:
    """Numeric ids as numbers; ``@channelname`` stays text."""
    try:
        return int(chat.id)
    except ValueError:
        return chat.id
