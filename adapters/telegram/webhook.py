"""Telegram's webhook: updates arrive by HTTPS POST on the pledge site instead of polling.

With several processes behind one address, long polling cannot work (Telegram hands each
update to one ``getUpdates`` caller and refuses two at once), so every process's web app
serves ``/telegram/<path>`` and the leading process registers that address with
``setWebhook``. The path is derived from TELEGRAM_WEBHOOK_SECRET (never the secret itself,
which we never put in a URL), and each request must carry the secret in Telegram's
``X-Telegram-Bot-Api-Secret-Token`` header, compared in constant time: a wrong one is
refused with 403 before the body is read. Accepted updates go on the application's update
queue, in order, so the response does not wait for the handlers (Telegram would resend a
slow one). Neither the secret nor the path reaches a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 256 * 1024  # an update is a few kilobytes; a message at most a few dozen
_PATH_CONTEXT = b"chorus telegram webhook path v1"


def webhook_path(secret: str) -> str:
    """``/telegram/<43 characters>``: the same in every process, revealing nothing of
    ``secret`` (an HMAC of a fixed context under it)."""
    digest = hmac.new(secret.encode(), _PATH_CONTEXT, hashlib.sha256).digest()
    return "/telegram/" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def webhook_secret(settings: Settings) -> str:
    if settings.telegram_webhook_secret is None:
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK=true")
    return settings.telegram_webhook_secret.get_secret_value()


def webhook_url(settings: Settings) -> str:
    """The address given to ``setWebhook``."""
    return settings.public_url + webhook_path(webhook_secret(settings))


class TelegramWebhook:
    """The aiohttp handler for Telegram's POSTs, feeding ``application``'s update queue."""

    def __init__(self, application: Application, secret: str) -> None:  # type: ignore[type-arg]
        self.application = application
        self._secret = secret.encode()

    def routes(self, secret: str) -> list[web.RouteDef]:
        return [web.post(webhook_path(secret), self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("refused a Telegram webhook request without the right secret token")
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        body = await _read_capped(request, MAX_BODY_BYTES)
        if body is None:
            return web.Response(status=413, text="too large")
        update = self._parse(body)
        if update is None:
            log.warning("refused a Telegram webhook request that is not an update")
            return web.Response(status=400, text="not an update")
        if not self.application.running:  # stopping: let Telegram deliver it elsewhere
            return web.Response(status=503, text="stopping")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    def _parse(self, body: bytes) -> Update | None:
        try:
            data: Any = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self.application.bot)
        except Exception:  # any shape PTB cannot read is not an update we can answer
            return None


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit`` (the rest is never read)."""
    body = bytearray()
    while True:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            return None


def webhook_routes(settings: Settings, application: Application) -> list[web.RouteDef]:  # type: ignore[type-arg]
    """The route the web app mounts when TELEGRAM_WEBHOOK=true (none otherwise)."""
    if not settings.telegram_webhook:
        return []
    secret = webhook_secret(settings)
    return TelegramWebhook(application, secret).routes(secret)
