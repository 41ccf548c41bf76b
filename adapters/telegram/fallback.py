"""What the bot says to anything it does not recognise: one helpful line, never silence
in a private chat, never noise in a group."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from adapters.telegram.kit import Context, Kit
from adapters.telegram.moderation import ModerationHandlers
from adapters.telegram.organiser import OrganiserHandlers
from bot.domain.text import t


class FallbackHandlers:
    def __init__(
        self, kit: Kit, organiser: OrganiserHandlers, moderation: ModerationHandlers
    ) -> None:
        self.kit = kit
        self.organiser = organiser
        self.moderation = moderation

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        private = filters.ChatType.PRIVATE
        return [
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, guard(self.private_text)),
            MessageHandler(private & filters.COMMAND, guard(self.unknown_command)),
            MessageHandler(private & ~filters.TEXT, guard(self.not_text)),
            CallbackQueryHandler(guard(self.unknown_button)),
        ]

    async def private_text(self, update: Update, context: Context) -> None:
        """A reply to a reject-reason prompt rejects; other free text goes to the campaign
        dialog if one is open."""
        message = update.effective_message
        assert message is not None
        if await self.moderation.take_reason(update):
            return
        if await self.kit.services.dialogs.active(self.kit.user(update)):
            await self.organiser.dialog_text(update, message.text or "")
        else:
            await self.kit.reply(update, t("telegram.unknown_text"))

    async def unknown_command(self, update: Update, context: Context) -> None:
        await self.kit.reply(update, t("telegram.unknown_command"))

    async def not_text(self, update: Update, context: Context) -> None:
        await self.kit.reply(update, t("telegram.not_text"))

    async def unknown_button(self, update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await self.kit.answer(
            update.callback_query, t("telegram.unknown_button"), self.kit.language(update), True
        )
