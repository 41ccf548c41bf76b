"""Group commands: /promote <ref> posts the campaign card (organiser or group admin)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from adapters.telegram.kit import Context, Kit
from bot.domain.text import t


class GroupHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        return [CommandHandler("promote", self.kit.guarded(self.promote))]

    async def promote(self, update: Update, context: Context) -> None:
        if self.kit.is_private(update):
            await self.kit.reply(update, t("telegram.promote_group_only"))
            return
        ref = await self.kit.single_argument(update, context, t("telegram.usage_promote"))
        if ref is None:
            return
        assert update.effective_chat is not None and update.effective_user is not None
        requester = self.kit.user(update)
        is_admin = await self.kit.is_admin(
            context, update.effective_chat.id, update.effective_user.id
        )
        await self.services.campaigns.promote(
            ref,
            self.kit.chat(update),
            requester,
            requester_is_admin=is_admin,
            language=requester.language,
        )
