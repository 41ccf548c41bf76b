"""Organisers' edits on Telegram: ``/editcampaign REF [field value]``, ``/resubmit REF``,
and the Withdraw button of the notice each supporter gets when a campaign changes.

``/editcampaign REF`` alone shows the fields and their values; with a field name the rest
of the message as typed (line breaks kept) is the new value. The rules are the core's
(``CampaignEditService``).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from adapters.telegram.kit import Context, Kit, callback_argument
from bot.domain.campaign import normalise_ref
from bot.domain.text import t
from bot.services.campaign_edits import WITHDRAW_ACTION


def edit_arguments(text: str) -> tuple[str, str, str] | None:
    """``(ref, field, value)`` from ``/editcampaign[@bot] REF field value``; ``field`` and
    ``value`` empty when not given; None without a reference."""
    parts = text.split(None, 3)
    if len(parts) < 2:
        return None
    field = parts[2] if len(parts) > 2 else ""
    return parts[1], field, parts[3] if len(parts) > 3 else ""


class EditHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("editcampaign", guard(self.edit)),
            CommandHandler("resubmit", guard(self.resubmit)),
            CallbackQueryHandler(guard(self.withdraw), pattern=f"^{WITHDRAW_ACTION}:"),
        ]

    async def edit(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        message = update.effective_message
        assert message is not None
        found = edit_arguments(message.text or "")
        if found is None:
            await self.kit.reply(update, t("telegram.usage_editcampaign"))
            return
        ref, field, value = found
        edits = self.services.edits
        organiser = self.kit.user(update)
        if not field:
            shown = await edits.show(ref, organiser)
            await self.kit.reply(update, shown)
            await self.kit.reply(update, t("telegram.how_to_edit", ref=normalise_ref(ref)))
            return
        await self.kit.reply(update, await edits.edit(ref, organiser, field, value))

    async def resubmit(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        ref = await self.kit.single_argument(update, context, t("telegram.usage_resubmit"))
        if ref is None:
            return
        answer = await self.services.edits.resubmit(ref, self.kit.user(update))
        await self.kit.reply(update, answer)

    async def withdraw(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        person = self.kit.user(update)
        answer = await self.services.edits.withdraw(callback_argument(update), person)
        await self.kit.answer(query)
        await self.kit.reply(update, answer, person.language)
