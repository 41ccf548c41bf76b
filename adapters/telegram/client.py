"""The python-telegram-bot ``Application`` both sides of the Telegram front end share.

Built once from the settings: the outbound side sends through its bot, the inbound side
adds its handlers to it and runs polling. Outgoing calls go through Chorus's own
``PacedRateLimiter`` (``adapters/telegram/rate_limiter.py``), so a flood limit (429)
delays a message instead of dropping it, messages go evenly at just under Telegram's 30
a second on an absolute schedule (a late wake-up of the event loop is caught up, not
carried forward), and a person's reply goes before the bulk queue. Its first handler,
in a group of its own ahead of all others, marks each update's task as answering a
person, which is how the limiter tells replies from bulk.

PTB's ``AIORateLimiter`` (sleep after each send, one queue) was measured by
``benchmarks/tap.py``: with bursts of 30, 1,000 offers took 1.27x the ideal N/30 with 276
refusals; evenly at 29 a second, 1.19x (the sleeps drift on a busy loop).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from adapters.telegram.rate_limiter import PacedRateLimiter, answering
from bot.settings import Settings, SettingsError

MARK_GROUP = -1000  # before every handler group of the inbound side


class RedactToken(logging.Filter):
    """httpx logs every request URL, and Bot API URLs contain the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, "<token>")
            record.args = ()
        return True


def build_application(settings: Settings, *, max_retries: int = 5) -> Application:  # type: ignore[type-arg]
    """The bot's application for TELEGRAM_BOT_TOKEN at TELEGRAM_API_URL (not started)."""
    if settings.telegram_bot_token is None:
        raise SettingsError("TELEGRAM_BOT_TOKEN is required for the Telegram front end")
    token = settings.telegram_bot_token.get_secret_value()
    api = settings.telegram_api_url.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(PacedRateLimiter(max_retries=max_retries))
        .concurrent_updates(True)
        .job_queue(None)
        .build()
    )
    application.add_handler(TypeHandler(Update, _mark_answering), group=MARK_GROUP)
    return application


async def _mark_answering(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run in the update's own task, before its handlers: their replies are interactive."""
    answering()
