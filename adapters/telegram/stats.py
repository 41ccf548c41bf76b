"""``/stats REF`` on Telegram: the campaign's chart as a photo with its figures, or with
``csv`` the figures as a spreadsheet file.

The organiser may ask (moderators too); the rules and figures are the core's
``StatsService``. The chart goes up with ``sendPhoto`` and the figures as its caption when
they fit Telegram's caption limit, else as a message after it; the CSV with ``sendDocument``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InputFile, Update
from telegram.constants import MessageLimit
from telegram.ext import BaseHandler, CommandHandler

from adapters.telegram.kit import Context, Kit
from bot.domain.text import t
from bot.services.stats import chart_png, figures_csv, figures_message

CSV_WORD = "csv"
MayModerate = Callable[[Context, int], Awaitable[bool]]


class StatsHandlers:
    def __init__(self, kit: Kit, may_moderate: MayModerate) -> None:
        self.kit = kit
        self.services = kit.services
        self.may_moderate = may_moderate

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        return [CommandHandler("stats", self.kit.guarded(self.stats))]

    async def stats(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        args = self.kit.args(context)
        wants_csv = len(args) == 2 and args[1].lower() == CSV_WORD
        if len(args) != 1 and not wants_csv:
            await self.kit.reply(update, t("stats.usage"))
            return
        assert update.effective_user is not None and update.effective_chat is not None
        person = self.kit.user(update)
        figures = await self.services.stats.figures(
            args[0],
            person,
            may_moderate=await self.may_moderate(context, update.effective_user.id),
        )
        language = person.language
        chat = update.effective_chat
        ref = figures.campaign.ref
        if wants_csv:
            caption = self.kit.text(t("stats.csv_caption", ref=ref), language)
            document = InputFile(figures_csv(figures), filename=f"chorus-{ref}.csv")
            await chat.send_document(document, caption=caption)
            return
        text = self.kit.renderer.message_text(figures_message(figures), language)
        picture = InputFile(await chart_png(figures, language), filename=f"chorus-{ref}.png")
        if len(text) <= MessageLimit.CAPTION_LENGTH:
            await chat.send_photo(picture, caption=text)
            return
        await chat.send_photo(picture)
        await chat.send_message(text)
