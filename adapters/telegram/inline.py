"""Telegram inline mode: anyone types ``@<bot> REF`` (or words of a title) in any chat and
drops the campaign card there, even where the bot is not a member.

Inline queries are answered with one article per live campaign (its card, with the Support
button, which is a deep link into the bot's private chat: a callback could never reach a
chat the bot is not in). When the person picks one, Telegram sends a chosen inline result
carrying the message's ``inline_message_id`` (only if inline feedback is enabled for the
bot in @BotFather, ``/setinlinefeedback``); the card is then stored as a shared card and
edited with the campaign's progress, like any promotion card.
"""

from __future__ import annotations

import logging

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import InlineQueryLimit
from telegram.ext import BaseHandler, ChosenInlineResultHandler, InlineQueryHandler

from adapters.telegram.kit import Context, Kit
from adapters.telegram.refs import inline_message_ref
from adapters.telegram.render import clip
from bot.services.cards import figures
from bot.services.shared_cards import OFFER_LIMIT

log = logging.getLogger(__name__)

# Short: the figures on an offered card must be near current. Results are rendered in the
# asker's language, hence personal (Telegram must not hand them to someone else).
CACHE_SECONDS = 10
RESULT_LIMIT = min(OFFER_LIMIT, InlineQueryLimit.RESULTS)
INLINE_MESSAGE_ID_MAX_CHARS = 256  # Telegram's are a few dozen characters; stored as text


class InlineHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            InlineQueryHandler(guard(self.query)),
            ChosenInlineResultHandler(guard(self.chosen)),
        ]

    async def query(self, update: Update, context: Context) -> None:
        """Offer the live campaigns matching the query, each as its card."""
        inline_query = update.inline_query
        assert inline_query is not None
        language = self.kit.language(update)
        renderer = self.kit.renderer
        offers = await self.services.shared_cards.offer(inline_query.query, RESULT_LIMIT)
        results = []
        for offer in offers:
            campaign = offer.campaign
            results.append(
                InlineQueryResultArticle(
                    id=campaign.ref,  # a few ASCII characters: far below the 64-byte cap
                    title=clip(campaign.title, 256),
                    description=clip(renderer.text(figures(campaign, offer.stats), language), 256),
                    input_message_content=InputTextMessageContent(
                        renderer.message_text(offer.card, language)
                    ),
                    reply_markup=renderer.keyboard(offer.card, language),
                )
            )
        await inline_query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)

    async def chosen(self, update: Update, context: Context) -> None:
        """A card was placed: keep it current through its ``inline_message_id``."""
        chosen = update.chosen_inline_result
        assert chosen is not None
        inline_message_id = chosen.inline_message_id
        if not inline_message_id:  # sent without a keyboard: nothing to edit
            return
        if len(inline_message_id) > INLINE_MESSAGE_ID_MAX_CHARS:  # not one Telegram makes
            log.warning("ignored a chosen inline result with an oversized message id")
            return
        await self.services.shared_cards.placed(
            chosen.result_id,
            inline_message_ref(inline_message_id),
            self.kit.language(update),
        )
