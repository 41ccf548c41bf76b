"""Supporter commands: the Support deep link (``/start <ref>``), /mypledges, /unpledge,
/forget behind a confirmation button, /status (anyone, any chat) and the recruiter-name
toggle on the pledge confirmation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from adapters.telegram.kit import Context, Kit
from adapters.telegram.refs import chat_ref
from bot.domain.outgoing import OutgoingMessage
from bot.domain.text import t
from bot.services.recruiter_names import CONSENT_ACTION
from bot.services.sources import ChatSource, split_chat
from bot.services.views import (
    FORGET_ACTION,
    FORGET_YES,
    forget_confirm,
    forget_kept,
    forgotten,
    pledge_list,
    unpledged,
)


class SupporterHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("mypledges", guard(self.my_pledges)),
            CommandHandler("unpledge", guard(self.unpledge)),
            CommandHandler("forget", guard(self.forget)),
            CallbackQueryHandler(guard(self.forget_answer), pattern=f"^{FORGET_ACTION}:"),
            CommandHandler("status", guard(self.status)),
            CallbackQueryHandler(guard(self.recruiter_name), pattern=f"^{CONSENT_ACTION}:"),
        ]

    async def support(self, update: Update, ref: str) -> None:
        """The supporter came through a card's Support deep link: hand them their link
        (``REF_c<chat id>`` from a group's card: the group is kept as the source)."""
        if not await self.kit.require_private(update, ref):
            return
        ref, chat_id = split_chat(ref)
        source = ChatSource(chat_ref(chat_id)) if chat_id is not None else None
        _, message = await self.services.pledges.support(ref, self.kit.user(update), source=source)
        await self.kit.reply(update, message)

    async def my_pledges(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        rows = await self.services.pledges.of_supporter(self.kit.user(update))
        await self.kit.reply(update, pledge_list(rows))

    async def unpledge(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        ref = await self.kit.single_argument(update, context, t("telegram.usage_unpledge"))
        if ref is None:
            return
        count = await self.services.pledges.unpledge(ref, self.kit.user(update))
        await self.kit.reply(update, unpledged(ref, count))

    async def forget(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        await self.kit.reply(update, forget_confirm())

    async def forget_answer(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        language = self.kit.language(update)
        await self.kit.answer(query)
        if query.data != FORGET_YES:
            await self.kit.show_in_place(query, OutgoingMessage.of(forget_kept()), language)
            return
        erased = await self.services.pledges.forget(self.kit.user(update))
        await self.kit.show_in_place(query, OutgoingMessage.of(forgotten(erased)), language)

    async def status(self, update: Update, context: Context) -> None:
        """Where a public campaign stands; anyone may ask, in any chat."""
        ref = await self.kit.single_argument(update, context, t("status_command.usage"))
        if ref is None:
            return
        await self.kit.reply(update, await self.services.status.status(ref))

    async def recruiter_name(self, update: Update, context: Context) -> None:
        """The toggle on the pledge confirmation: named or anonymous among the recruiters."""
        query = update.callback_query
        assert query is not None and query.data is not None
        ref = query.data.partition(":")[2]
        message = await self.services.recruiters.toggle_message(ref, self.kit.user(update))
        await self.kit.answer(query)  # a refusal above is the answer instead (an alert)
        await self.kit.show_in_place(query, message, self.kit.language(update))
