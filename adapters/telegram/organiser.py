"""Organiser commands: /newcampaign (the dialog), /cancel, /mycampaigns, /cancelcampaign.

The dialog's picture arrives as a photo (Telegram's largest size of it) or an image file
sent in the private chat; it is fetched with getFile and handed to the dialog as bytes.

The dialog itself is the core's state machine; here each reply is shown, free text in
a private chat is fed to it, and its buttons come back as ``dlg:`` callbacks.
"""

from __future__ import annotations

from telegram import Document, PhotoSize, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from adapters.telegram.kit import Context, Kit
from bot.dialog import ACTION_PREFIX
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import t
from bot.services.views import campaign_cancelled, campaign_list

NEW_CAMPAIGN_PAYLOAD = "new"


class OrganiserHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("newcampaign", guard(self.new_campaign)),
            CommandHandler("cancel", guard(self.cancel_dialog)),
            CommandHandler("mycampaigns", guard(self.my_campaigns)),
            CommandHandler("cancelcampaign", guard(self.cancel_campaign)),
            CallbackQueryHandler(guard(self.dialog_button), pattern=f"^{ACTION_PREFIX}"),
            MessageHandler(
                filters.ChatType.PRIVATE & (filters.PHOTO | filters.Document.IMAGE),
                guard(self.dialog_picture),
            ),
        ]

    async def new_campaign(self, update: Update, context: Context) -> None:
        if not self.kit.is_private(update):
            button = Button(
                t("telegram.button_open_private"),
                url=self.kit.renderer.deep_link(NEW_CAMPAIGN_PAYLOAD),
            )
            await self.kit.reply(
                update,
                OutgoingMessage.of(t("telegram.newcampaign_in_private"), buttons=((button,),)),
            )
            return
        await self.begin(update)

    async def begin(self, update: Update) -> None:
        reply = await self.services.dialogs.begin(self.kit.user(update))
        await self.kit.reply(update, reply.message)

    async def dialog_text(self, update: Update, text: str) -> None:
        reply = await self.services.dialogs.text(
            self.kit.user(update), text, self.kit.chat(update)
        )
        await self.kit.reply(update, reply.message)

    async def dialog_picture(self, update: Update, context: Context) -> None:
        """A photo (its largest size) or an image file for the dialog's picture step; it
        is downloaded only if the dialog waits for one and Telegram's size is allowed."""
        message = update.effective_message
        assert message is not None
        item: PhotoSize | Document | None = (
            max(message.photo, key=lambda size: size.width * size.height)
            if message.photo
            else message.document
        )
        assert item is not None

        async def fetch() -> bytes:
            file = await item.get_file()
            return bytes(await file.download_as_bytearray())

        reply = await self.services.dialogs.picture(
            self.kit.user(update), fetch, item.file_size, self.kit.chat(update)
        )
        await self.kit.reply(update, reply.message)

    async def dialog_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        user = self.kit.user(update)
        reply = await self.services.dialogs.action(user, str(query.data), self.kit.chat(update))
        await self.kit.answer(query)
        await self.kit.show_in_place(query, reply.message, user.language)

    async def cancel_dialog(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        reply = await self.services.dialogs.cancel(self.kit.user(update))
        await self.kit.reply(update, reply.message)

    async def my_campaigns(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        rows = await self.services.campaigns.of_organiser(self.kit.user(update))
        await self.kit.reply(update, campaign_list(rows, self.services.clock.now()))

    async def cancel_campaign(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        ref = await self.kit.single_argument(update, context, t("telegram.usage_cancelcampaign"))
        if ref is None:
            return
        campaign = await self.services.campaigns.cancel(ref, self.kit.user(update))
        await self.kit.reply(update, campaign_cancelled(campaign))
