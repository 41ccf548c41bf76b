"""The python-telegram-bot ``Application`` both sides of the Telegram front end share.

Built once from the settings: the outbound side sends through its bot, the inbound side
adds its handlers to it and runs polling. Outgoing calls go through PTB's
``AIORateLimiter``, so a flood limit (429) delays a message instead of dropping it.

The limiter sends evenly, one message every 1/29 s, rather than PTB's default (bursts of
30 then 30 a second): Telegram counts about 30 a second over any second, so bursts after
each pause earn a 429 and a pause of a whole second, again and again. Measured by
``benchmarks/tap.py`` (1,000 offers: 1.27x the ideal N/30 with bursts, 276 refusals).
"""

from __future__ import annotations

import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.settings import Settings, SettingsError

MESSAGES_PER_SECOND = 29  # just under Telegram's ~30 a second overall


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
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=1,  # no burst: one at a time, evenly spaced
                overall_time_period=1 / MESSAGES_PER_SECOND,
                max_retries=max_retries,
            )
        )
        .concurrent_updates(True)
        .job_queue(None)
        .build()
    )
