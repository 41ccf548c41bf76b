"""Organiser updates on Telegram: ``/update REF text`` and the Mute / Unmute buttons.

The text is taken from the message as typed after the reference (line breaks kept), not
from the whitespace-split arguments; the rules (who may send, how long, how often) are
the core's ``UpdateService``.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from adapters.telegram.kit import Context, Kit, callback_argument
from bot.domain.text import t
from bot.services.updates import MUTE_ACTION, UNMUTE_ACTION


def command_rest(text: str) -> tuple[str, str] | None:
    """``(ref, text)`` from ``/update[@bot] REF text``; None without a reference."""
    parts = text.split(None, 2)
    if len(parts) < 2:
        return None
    return parts[1], parts[2] if len(parts) > 2 else ""


class UpdateHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        guard = self.kit.guarded
        return [
            CommandHandler("update", guard(self.update)),
            CallbackQueryHandler(guard(self.mute), pattern=f"^{MUTE_ACTION}:"),
            CallbackQueryHandler(guard(self.unmute), pattern=f"^{UNMUTE_ACTION}:"),
        ]

    async def update(self, update: Update, context: Context) -> None:
        if not await self.kit.require_private(update):
            return
        message = update.effective_message
        assert message is not None
        found = command_rest(message.text or "")
        if found is None:
            await self.kit.reply(update, t("telegram.usage_update"))
            return
        ref, text = found
        answer = await self.services.updates.send(ref, self.kit.user(update), text)
        await self.kit.reply(update, answer)

    async def mute(self, update: Update, context: Context) -> None:
        await self._toggle(update, mute=True)

    async def unmute(self, update: Update, context: Context) -> None:
        await self._toggle(update, mute=False)

    async def _toggle(self, update: Update, *, mute: bool) -> None:
        query = update.callback_query
        assert query is not None
        person = self.kit.user(update)
        updates = self.services.updates
        toggle = updates.mute if mute else updates.unmute
        answer = await toggle(callback_argument(update), person)
        await self.kit.answer(query)
        await self.kit.reply(update, answer, person.language)
