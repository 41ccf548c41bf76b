"""The python-telegram-bot ``Application`` both sides of the Telegram front end share.

Built once from the settings: the outbound side sends through its bot, the inbound side
adds its handlers to it and runs polling. Outgoing calls go through PTB's
``AIORateLimiter``, so a flood limit (429) delays a message instead of dropping it.
"""

from __future__ import annotations

import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.settings import Settings, SettingsError


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
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=max_retries))
        .concurrent_updates(True)
        .job_queue(None)
        .build()
    )
