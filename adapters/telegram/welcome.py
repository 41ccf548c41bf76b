"""/start and /help; ``/start <payload>`` is where deep links land (``new`` or a ref)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from adapters.telegram.kit import Context, Kit
from adapters.telegram.organiser import NEW_CAMPAIGN_PAYLOAD, OrganiserHandlers
from adapters.telegram.post_now import POST_NOW_PAYLOAD, PostNowHandlers
from adapters.telegram.supporters import SupporterHandlers
from bot.domain.text import t


class WelcomeHandlers:
    def __init__(
        self,
        kit: Kit,
        organiser: OrganiserHandlers,
        supporters: SupporterHandlers,
        post_now: PostNowHandlers | None = None,
    ) -> None:
        self.kit = kit
        self.organiser = organiser
        self.supporters = supporters
        self.post_now = post_now or PostNowHandlers(kit)

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("start", guard(self.start)),
            CommandHandler("help", guard(self.help)),
        ]

    async def start(self, update: Update, context: Context) -> None:
        args = self.kit.args(context)
        if not args:
            await self.kit.reply(update, t("telegram.welcome"))
        elif args[0] == NEW_CAMPAIGN_PAYLOAD and self.kit.is_private(update):
            await self.organiser.begin(update)
        elif args[0].startswith(POST_NOW_PAYLOAD):
            await self.post_now.links_in_private(update, args[0].removeprefix(POST_NOW_PAYLOAD))
        else:
            await self.supporters.support(update, args[0])

    async def help(self, update: Update, context: Context) -> None:
        await self.kit.reply(update, t("telegram.help"))
