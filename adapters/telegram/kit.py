"""What every Telegram handler needs: the chat services, the renderer, replies, admin checks,
and one guard that turns a broken rule into a readable answer instead of a traceback."""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram.refs import chat_ref, user_ref
from adapters.telegram.render import ALERT_LIMIT, Renderer, clip
from bot.domain.errors import DomainError
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.refs import ChatRef, UserRef
from bot.domain.text import Text, t
from bot.services.chat_services import ChatServices

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Awaitable[None]]
ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


class Kit:
    """Shared by the handler modules of one ``TelegramInbound``."""

    def __init__(self, services: ChatServices, bot: Bot) -> None:
        self.services = services
        self.settings = services.settings
        self._bot = bot
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def renderer(self) -> Renderer:
        """Raises ``RuntimeError`` until the application is initialised (the bot then
        knows its own username)."""
        return Renderer(self._bot.username, self.settings.timezone)

    # --- who and where -----------------------------------------------------------------

    def user(self, update: Update) -> UserRef:
        assert update.effective_user is not None
        return user_ref(update.effective_user, self.settings.default_language)

    def language(self, update: Update) -> str:
        return self.user(update).language if update.effective_user else self.default_language

    @property
    def default_language(self) -> str:
        return self.settings.default_language

    @staticmethod
    def chat(update: Update) -> ChatRef:
        assert update.effective_chat is not None
        return chat_ref(update.effective_chat)

    @staticmethod
    def is_private(update: Update) -> bool:
        return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE

    @staticmethod
    def args(context: Context) -> list[str]:
        return list(context.args or [])

    async def single_argument(self, update: Update, context: Context, usage: Text) -> str | None:
        """The command's one argument (a campaign reference); else show ``usage`` and None."""
        args = self.args(context)
        if len(args) != 1:
            await self.reply(update, usage)
            return None
        return args[0]

    async def is_admin(self, context: Context, chat_id: int | str, user_id: int) -> bool:
        """Whether ``user_id`` is the creator or an administrator of ``chat_id``."""
        try:
            member = await context.bot.get_chat_member(chat_id, user_id)
        except BadRequest:
            return False
        return member.status in ADMIN_STATUSES

    # --- answers -----------------------------------------------------------------------

    def text(self, text: Text, language: str) -> str:
        return self.renderer.text(text, language)

    def markup(self, message: OutgoingMessage, language: str) -> InlineKeyboardMarkup | None:
        return self.renderer.keyboard(message, language)

    async def reply(
        self, update: Update, message: OutgoingMessage | Text, language: str | None = None
    ) -> Message:
        """Answer in the chat the update came from."""
        outgoing = message if isinstance(message, OutgoingMessage) else OutgoingMessage.of(message)
        language = language or self.language(update)
        assert update.effective_chat is not None
        return await update.effective_chat.send_message(
            self.renderer.message_text(outgoing, language),
            reply_markup=self.markup(outgoing, language),
        )

    async def require_private(self, update: Update, payload: str = "") -> bool:
        """True in a private chat; elsewhere point to the private chat and say no."""
        if self.is_private(update):
            return True
        language = self.language(update)
        button = Button(t("telegram.button_open_private"), url=self.renderer.deep_link(payload))
        await self.reply(
            update, OutgoingMessage.of(t("telegram.private_only"), buttons=((button,),)), language
        )
        return False

    async def answer(
        self,
        query: CallbackQuery,
        text: Text | None = None,
        language: str | None = None,
        alert: bool = False,
    ) -> None:
        """Acknowledge a button press, optionally with a toast or an alert."""
        language = language or self.default_language
        shown = clip(self.text(text, language), ALERT_LIMIT) if text else None
        try:
            await query.answer(shown, show_alert=alert)
        except BadRequest as exc:  # the query expired; the person sees nothing either way
            log.info("callback answer refused: %s", exc.message)

    async def show_in_place(
        self, query: CallbackQuery, message: OutgoingMessage, language: str
    ) -> None:
        """Replace the message whose button was pressed (a step of a dialog).

        If Telegram will not edit it (too old, deleted), the answer is sent anew.
        """
        text = self.renderer.message_text(message, language)
        markup = self.markup(message, language)
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            log.info("could not edit the pressed message (%s); sending anew", exc.message)
            if query.message is None:
                raise
            await query.get_bot().send_message(query.message.chat.id, text, reply_markup=markup)

    # --- the guard -----------------------------------------------------------------------

    def guarded(self, handler: Handler) -> Handler:
        """Serialise each person's updates; answer errors in the person's language."""

        @functools.wraps(handler)
        async def run(update: Update, context: Context) -> None:
            person = update.effective_user
            lock = self._lock_for(person.id if person else 0)
            async with lock:
                await self._run(handler, update, context)

        return run

    def _lock_for(self, key: int) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _run(self, handler: Handler, update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except DomainError as exc:
            await self._explain(update, exc.text)
        except Forbidden as exc:
            log.info("telegram refused to deliver an answer: %s", exc.message)
        except Exception:
            log.exception("handling a Telegram update failed")
            await self._explain(update, t("error.internal"))

    async def _explain(self, update: Update, text: Text) -> None:
        language = self.language(update)
        try:
            if update.callback_query is not None:
                await self.answer(update.callback_query, text, language, alert=True)
            elif update.effective_chat is not None:
                await self.reply(update, text, language)
        except TelegramError:
            log.warning("could not explain an error to a Telegram user", exc_info=True)


def callback_argument(update: Update) -> str:
    """``12`` from callback data ``approve:12``."""
    assert update.callback_query is not None
    return str(update.callback_query.data or "").partition(":")[2]
