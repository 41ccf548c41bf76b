"""Moderation in TELEGRAM_MODERATION_CHAT_ID: Approve and Reject buttons on the card.

Only administrators of that chat, or ids in TELEGRAM_MODERATOR_IDS, may press them;
anyone else gets an alert and nothing changes. With MODERATION_IN_PRIVATE and no such
chat, the card goes to each listed moderator's private chat and works the same there.
Reject asks the moderator for a reason with a ForceReply message (which reaches a bot
even in privacy mode); their reply to it carries the reason. ``/pending`` lists what
waits, with the same buttons. The core decides the race when two moderators act at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import ForceReply, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from adapters.telegram.kit import Context, Kit, callback_argument
from bot.domain.campaign import CampaignStatus
from bot.domain.errors import DomainError, InvalidInput, InvalidTransition
from bot.domain.text import t
from bot.services.cards import APPROVE_ACTION, REJECT_ACTION
from bot.services.views import approved, pending_list, rejected

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingReason:
    """A moderator pressed Reject and we wait for their reply to ``prompt_id``.

    Kept with the dialogs in the database, so a restart between the press and the reply
    loses nothing.
    """

    campaign_id: int
    prompt_id: int


def _pending_key(moderator_id: int) -> str:
    return f"telegram:{moderator_id}:reject-reason"


class ModerationHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.core = kit.core
        self.chat_id = kit.settings.telegram_moderation_chat_id
        self.moderator_ids = frozenset(kit.settings.telegram_moderator_ids)

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        handlers: list[BaseHandler[Update, Context, None]] = [
            CommandHandler("pending", guard(self.pending)),
            CallbackQueryHandler(guard(self.approve), pattern=f"^{APPROVE_ACTION}:"),
            CallbackQueryHandler(guard(self.reject), pattern=f"^{REJECT_ACTION}:"),
        ]
        if self.chat_id is not None:
            in_moderation_chat = (
                filters.Chat(chat_id=int(self.chat_id))
                if self.chat_id.lstrip("-").isdigit()
                else filters.Chat(username=self.chat_id.lstrip("@"))
            )
            handlers.append(
                MessageHandler(
                    in_moderation_chat & filters.REPLY & filters.TEXT & ~filters.COMMAND,
                    guard(self.reason),
                )
            )
        return handlers

    async def may_moderate(self, context: Context, user_id: int) -> bool:
        if str(user_id) in self.moderator_ids:
            return True
        if self.chat_id is None:
            return False
        return await self.kit.is_admin(context, self.chat_id, user_id)

    def _in_moderation_chat(self, update: Update) -> bool:
        chat = update.effective_chat
        if chat is None or not self.chat_id:
            return False
        return str(chat.id) == self.chat_id or (
            chat.username is not None and chat.username == self.chat_id.lstrip("@")
        )

    async def pending(self, update: Update, context: Context) -> None:
        """/pending: what waits, oldest first, with the buttons to decide (moderators only)."""
        assert update.effective_user is not None
        if not await self.may_moderate(context, update.effective_user.id):
            await self.kit.reply(update, t("pending.not_moderator"))
            return
        if not self._in_moderation_chat(update) and not await self.kit.require_private(update):
            return  # not in front of a group that may not moderate
        await self.kit.reply(update, pending_list(await self.core.campaigns.pending()))

    async def _campaign_id(self, update: Update, context: Context) -> int | None:
        """The card's campaign id if the presser may moderate; else answer and None."""
        query = update.callback_query
        assert query is not None and update.effective_user is not None
        language = self.kit.language(update)
        if not await self.may_moderate(context, update.effective_user.id):
            log.info("user %s pressed a moderation button without the right", query.from_user.id)
            await self.kit.answer(query, t("telegram.not_moderator"), language, alert=True)
            return None
        try:
            return int(callback_argument(update))
        except ValueError:
            await self.kit.answer(query, t("telegram.unknown_button"), language, alert=True)
            return None

    async def approve(self, update: Update, context: Context) -> None:
        campaign_id = await self._campaign_id(update, context)
        if campaign_id is None:
            return
        assert update.callback_query is not None
        campaign = await self.core.campaigns.approve(campaign_id, self.kit.user(update))
        await self.kit.answer(update.callback_query, approved(campaign), self.kit.language(update))

    async def reject(self, update: Update, context: Context) -> None:
        campaign_id = await self._campaign_id(update, context)
        if campaign_id is None:
            return
        query = update.callback_query
        assert query is not None and query.message is not None
        campaign = await self.core.campaigns.get_by_id(campaign_id)
        if campaign.status is not CampaignStatus.PENDING_REVIEW:
            raise InvalidTransition(
                "campaign.cannot_rejected", ref=campaign.ref, status=campaign.status.value
            )
        moderator = self.kit.user(update)
        prompt = await context.bot.send_message(
            query.message.chat.id,
            self.kit.text(
                t("telegram.reason_prompt", name=moderator.name, ref=campaign.ref),
                moderator.language,
            ),
            reply_markup=ForceReply(
                selective=False,
                input_field_placeholder=self.kit.text(
                    t("telegram.reason_placeholder"), moderator.language
                )[:64],
            ),
        )
        await self.core.repo.save_dialog(
            _pending_key(int(moderator.id)),
            {"campaign_id": campaign_id, "prompt_id": prompt.message_id},
        )
        await self.kit.answer(query, t("telegram.reason_asked"), moderator.language)

    async def reason(self, update: Update, context: Context) -> None:
        """A reply in the moderation chat: the reason, or moderators talking."""
        await self.take_reason(update)

    async def take_reason(self, update: Update) -> bool:
        """Reject with this message if it replies to the moderator's reason prompt.

        False when it does not (the caller treats it as any other message).
        """
        message = update.effective_message
        assert message is not None and update.effective_user is not None
        key = _pending_key(update.effective_user.id)
        replied = message.reply_to_message
        if replied is None:
            return False
        stored = await self.core.repo.load_dialog(key)
        waiting = PendingReason(**stored) if stored else None
        if waiting is None or replied.message_id != waiting.prompt_id:
            return False  # an ordinary conversation among moderators
        try:
            campaign = await self.core.campaigns.reject(
                waiting.campaign_id, self.kit.user(update), message.text or ""
            )
        except InvalidInput:
            raise  # keep waiting: the next reply may carry a usable reason
        except DomainError:
            await self.core.repo.delete_dialog(key)
            raise
        await self.core.repo.delete_dialog(key)
        await self.kit.reply(update, rejected(campaign))
        return True
