"""Moderation in TELEGRAM_MODERATION_CHAT_ID: Approve, Reject and Request changes buttons
on the card.

Only administrators of that chat, or ids in TELEGRAM_MODERATOR_IDS, may press them;
anyone else gets an alert and nothing changes. With MODERATION_IN_PRIVATE and no such
chat, the card goes to each listed moderator's private chat and works the same there.
Reject asks the moderator for a reason with a ForceReply message (which reaches a bot
even in privacy mode); their reply to it carries the reason (the core keeps the rejection
waiting for it, so a restart in between loses nothing); Request changes asks for the note
to the organiser the same way. ``/pending`` lists what
waits, with the same buttons. The core decides the race when two moderators act at once.
"""

from __future__ import annotations

from telegram import ForceReply, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from adapters.telegram.kit import Context, Kit, callback_argument
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.moderation import ReasonKind
from bot.domain.text import t
from bot.services.cards import APPROVE_ACTION, CHANGES_ACTION, REJECT_ACTION
from bot.services.views import approved, changes_requested, pending_list, rejected


class ModerationHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services
        self.chat_id = kit.settings.telegram_moderation_chat_id
        self.moderator_ids = frozenset(kit.settings.telegram_moderator_ids)

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        handlers: list[BaseHandler[Update, Context, None]] = [
            CommandHandler("pending", guard(self.pending)),
            CallbackQueryHandler(guard(self.approve), pattern=f"^{APPROVE_ACTION}:"),
            CallbackQueryHandler(guard(self.reject), pattern=f"^{REJECT_ACTION}:"),
            CallbackQueryHandler(guard(self.request_changes), pattern=f"^{CHANGES_ACTION}:"),
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
        may_moderate = await self.may_moderate(context, update.effective_user.id)
        in_place = self._in_moderation_chat(update)
        if may_moderate and not in_place and not await self.kit.require_private(update):
            return  # not in front of a group that may not moderate
        waiting = await self.services.moderation.pending(may_moderate=may_moderate)
        await self.kit.reply(update, pending_list(waiting))

    async def _campaign_id(self, update: Update) -> int | None:
        """The pressed card's campaign id; else answer and None."""
        query = update.callback_query
        assert query is not None
        try:
            return int(callback_argument(update))
        except ValueError:
            language = self.kit.language(update)
            await self.kit.answer(query, t("telegram.unknown_button"), language, alert=True)
            return None

    async def approve(self, update: Update, context: Context) -> None:
        assert update.callback_query is not None and update.effective_user is not None
        may_moderate = await self.may_moderate(context, update.effective_user.id)
        campaign_id = await self._campaign_id(update)
        if campaign_id is None:
            return
        campaign = await self.services.moderation.approve(
            campaign_id, self.kit.user(update), may_moderate=may_moderate
        )
        await self.kit.answer(update.callback_query, approved(campaign), self.kit.language(update))

    async def reject(self, update: Update, context: Context) -> None:
        await self._ask_words(update, context, ReasonKind.REJECT)

    async def request_changes(self, update: Update, context: Context) -> None:
        await self._ask_words(update, context, ReasonKind.CHANGES)

    async def _ask_words(self, update: Update, context: Context, kind: ReasonKind) -> None:
        """Reject or Request changes: prompt for the reason (or note) with a ForceReply."""
        query = update.callback_query
        assert query is not None and query.message is not None
        assert update.effective_user is not None
        may_moderate = await self.may_moderate(context, update.effective_user.id)
        campaign_id = await self._campaign_id(update)
        if campaign_id is None:
            return
        moderator = self.kit.user(update)
        chat_id = query.message.chat.id

        changes = kind is ReasonKind.CHANGES
        prompt_key = "telegram.changes_prompt" if changes else "telegram.reason_prompt"
        hint_key = "telegram.changes_placeholder" if changes else "telegram.reason_placeholder"

        async def ask(campaign: Campaign) -> str:
            prompt = await context.bot.send_message(
                chat_id,
                self.kit.text(
                    t(prompt_key, name=moderator.name, ref=campaign.ref), moderator.language
                ),
                reply_markup=ForceReply(
                    selective=False,
                    input_field_placeholder=self.kit.text(t(hint_key), moderator.language)[:64],
                ),
            )
            return str(prompt.message_id)

        await self.services.moderation.start_rejection(
            campaign_id, moderator, ask, may_moderate=may_moderate, kind=kind
        )
        asked_key = "telegram.changes_asked" if changes else "telegram.reason_asked"
        await self.kit.answer(query, t(asked_key), moderator.language)

    async def reason(self, update: Update, context: Context) -> None:
        """A reply in the moderation chat: the reason, or moderators talking."""
        await self.take_reason(update)

    async def take_reason(self, update: Update) -> bool:
        """Reject with this message if it replies to the moderator's reason prompt.

        False when it does not (the caller treats it as any other message).
        """
        message = update.effective_message
        assert message is not None and update.effective_user is not None
        replied = message.reply_to_message
        if replied is None:
            return False
        campaign = await self.services.moderation.give_reason(
            self.kit.user(update), str(replied.message_id), message.text or ""
        )
        if campaign is None:
            return False  # an ordinary conversation among moderators
        done = rejected if campaign.status is CampaignStatus.REJECTED else changes_requested
        await self.kit.reply(update, done(campaign))
        return True
