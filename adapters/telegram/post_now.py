"""The Post now button of a launched campaign's card, and the deep link it falls back on.

Pressing Post now sends the presser's one-tap links to their private chat and says so in
an alert. If the bot cannot write to them (they blocked it, or never started it), the
answer opens the bot's private chat through a deep link (``/start post-<ref>``, which the
Bot API allows in a callback answer's ``url`` for links to the bot itself); there, /start
hands the links over in the reply. Anyone else gets a clear alert.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler

from adapters.telegram.kit import Context, Kit, callback_argument
from adapters.telegram.render import ALERT_LIMIT, clip
from bot.services.cards import POST_NOW_ACTION
from bot.services.post_now import Outcome

log = logging.getLogger(__name__)

POST_NOW_PAYLOAD = "post-"  # /start post-<ref>: the deep link of an unreachable presser


class PostNowHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        pattern = f"^{POST_NOW_ACTION}:"
        return [CallbackQueryHandler(self.kit.guarded(self.pressed), pattern=pattern)]

    async def pressed(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        person = self.kit.user(update)
        answer = await self.services.post_now.press_and_send(callback_argument(update), person)
        note = clip(self.kit.text(answer.note, person.language), ALERT_LIMIT)
        if answer.outcome is not Outcome.UNREACHABLE:
            await self.kit.answer(query, answer.note, person.language, alert=True)
            return
        link = self.kit.renderer.deep_link(POST_NOW_PAYLOAD + answer.campaign.ref)
        try:
            await query.answer(note, url=link)
        except BadRequest as exc:  # the query expired; the person sees nothing either way
            log.info("callback answer refused: %s", exc.message)

    async def links_in_private(self, update: Update, ref: str) -> None:
        """``/start post-<ref>``: the presser opened the bot; their links, or why none."""
        if not await self.kit.require_private(update):
            return
        person = self.kit.user(update)
        answer = await self.services.post_now.press(ref, person)
        if answer.message is None:
            await self.kit.reply(update, answer.note)
            return
        await self.kit.reply(update, answer.message)
        await self.services.post_now.handed(answer, person)
