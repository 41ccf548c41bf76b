"""Supporter commands: the Support deep link (``/start <ref>``), /mypledges, /unpledge,
and /forget behind a confirmation button."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from adapters.telegram.kit import Context, Kit
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text, t

FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"


class SupporterHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.core = kit.core

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("mypledges", guard(self.my_pledges)),
            CommandHandler("unpledge", guard(self.unpledge)),
            CommandHandler("forget", guard(self.forget)),
            CallbackQueryHandler(guard(self.forget_answer), pattern="^forget:"),
        ]

    async def support(self, update: Update, ref: str) -> None:
        """The supporter came through a card's Support deep link: hand them their link."""
        if not await self.kit.require_private(update, ref):
            return
        _, message = await self.core.pledges.support(ref, self.kit.user(update))
        await self.kit.reply(update, message)

    async def my_pledges(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        rows = await self.core.pledges.of_supporter(self.kit.user(update))
        if not rows:
            await self.kit.reply(update, t("telegram.mypledges_none"))
            return
        lines: list[Text] = [t("telegram.mypledges_header")]
        lines.extend(
            t(
                "telegram.mypledges_line",
                ref=campaign.ref,
                title=campaign.title,
                account=account,
                status=t(f"telegram.pledge_status.{pledge.status.value}"),
                launch_at=campaign.launch_at,
            )
            for pledge, campaign, account in rows
        )
        await self.kit.reply(update, OutgoingMessage(tuple(lines)))

    async def unpledge(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        args = self.kit.args(context)
        if len(args) != 1:
            await self.kit.reply(update, t("telegram.usage_unpledge"))
            return
        count = await self.core.pledges.unpledge(args[0], self.kit.user(update))
        await self.kit.reply(update, t("telegram.unpledged", count=count, ref=args[0].upper()))

    async def forget(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        buttons = (
            (
                Button(t("telegram.button_forget_yes"), action=FORGET_YES),
                Button(t("telegram.button_forget_no"), action=FORGET_NO),
            ),
        )
        await self.kit.reply(
            update, OutgoingMessage.of(t("telegram.forget_confirm"), buttons=buttons)
        )

    async def forget_answer(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        language = self.kit.language(update)
        await self.kit.answer(query)
        if query.data != FORGET_YES:
            await self.kit.show_in_place(
                query, OutgoingMessage.of(t("telegram.forget_kept")), language
            )
            return
        result = await self.core.pledges.forget(self.kit.user(update))
        done = t("telegram.forgotten", accounts=result["accounts"], pledges=result["pledges"])
        await self.kit.show_in_place(query, OutgoingMessage.of(done), language)
