"""A small loopback Telegram Bot API for the benchmarks: the wire, the clock and the limits.

The test suite has a faithful fake (``tests/fakes/telegram_api.py``), but benchmarks run
from an installed Chorus and import nothing from ``tests``; this is the part of it the
benchmarks need, plus what only they need:

- the methods python-telegram-bot calls to start, poll and answer: ``getMe``,
  ``deleteWebhook``, ``setMyCommands``, ``getUpdates`` (long polling), ``sendMessage``,
  ``editMessageText``, ``answerCallbackQuery``, with Telegram's JSON envelopes and errors;
- Telegram's flood limit when asked (``--max-per-second 30``): more ``sendMessage`` calls
  than that in any one second are refused with ``429`` and ``retry_after``, as Telegram
  does; every refusal is counted, and every message accepted is counted per chat, so a
  benchmark can check that each supporter got exactly one;
- probes, for the reply-time benchmark: ``POST /_bench/probe?every_ms=20`` makes people
  (ids from ``PROBE_BASE``) send a command or press a button, one every ``every_ms``, and
  times each from the moment the update is handed to the bot's long poll until the
  bot's answer (``sendMessage`` to that person, or ``answerCallbackQuery`` for that press)
  reaches this server. Both instants are taken here, on one clock.

Run it in its own process (``python -m benchmarks.telegram_wire``: it prints its URL as
one JSON line), so its work does not share the event loop it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

JSON = dict[str, Any]

TOKEN = "123456789:bench-token-not-real"
BOT_ID = 123456789
BOT_USERNAME = "chorus_bench_bot"
PROBE_BASE = 900_000_000  # probe people's ids: far from the supporters'
MESSAGE_MAX_CHARS = 4096
ALERT_MAX_CHARS = 200
_JSON_FIELDS = frozenset(  # PTB sends strings raw and everything else JSON-encoded
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_markup",
        "show_alert",
        "commands",
        "scope",
        "allowed_updates",
        "drop_pending_updates",
        "cache_time",
        "reply_parameters",
        "link_preview_options",
        "disable_notification",
        "protect_content",
        "entities",
    }
)


@dataclass
class Probe:
    """One person's command or button press, and when the bot answered it."""

    kind: str  # "command" or "button"
    text: str
    sent: float
    answered: float | None = None


@dataclass
class TelegramWire:
    """The server; ``max_per_second`` (None: no limit) is Telegram's overall flood limit."""

    token: str = TOKEN
    max_per_second: int | None = None
    sent_to: Counter[int] = field(default_factory=Counter)  # accepted sendMessage per chat
    refused: int = 0  # 429s given
    refused_spans: list[float] = field(default_factory=list)  # what the last N spanned then

    def __post_init__(self) -> None:
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._window: deque[float] = deque()  # accepted sends in the last second
        self._probes: list[Probe] = []
        self._waiting: dict[tuple[str, str], int] = {}  # (method, key) -> probe index
        self._prober: asyncio.Task[None] | None = None
        self._first_index = 0
        self._runner: web.AppRunner | None = None
        self.first_send: float | None = None
        self.last_send: float | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/_bench/probe", self._start_probes)
        app.router.add_post("/_bench/stop", self._stop_probes)
        app.router.add_get("/_bench/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        return self.url

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
        self._changed.set()  # release a long poll
        if self._runner is not None:
            await self._runner.cleanup()

    # --- probes ----------------------------------------------------------------------

    def probe(self, index: int) -> None:
        """Person ``index`` sends ``/status BENCH1`` or ``/help``, or presses "keep" under
        a /forget confirmation (the three alternate)."""
        person = PROBE_BASE + index
        sender = {"id": person, "is_bot": False, "first_name": f"P{index}", "language_code": "en"}
        chat = {"id": person, "type": "private", "first_name": f"P{index}"}
        now = int(time.time())
        kind = ("status", "help", "button")[index % 3]
        if kind == "button":
            query_id = f"bench{index}"
            message = {
                "message_id": next(self._message_ids),
                "date": now,
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Chorus"},
                "text": "Forget everything?",
            }
            update = {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": message,
                    "chat_instance": str(person),
                    "data": "forget:no",
                }
            }
            key = ("answerCallbackQuery", query_id)
        else:
            text = "/status BENCH1" if kind == "status" else "/help"
            command = text.split()[0]
            update = {
                "message": {
                    "message_id": next(self._message_ids),
                    "date": now,
                    "chat": chat,
                    "from": sender,
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
                }
            }
            key = ("sendMessage", str(person))
        self._waiting[key] = len(self._probes)
        self._probes.append(Probe("button" if kind == "button" else "command", kind, 0.0))
        self._inject(update)
        self._probes[-1].sent = time.perf_counter()

    async def _probe_every(self, every: float) -> None:
        started = time.perf_counter()
        for index in itertools.count(len(self._probes)):
            self.probe(index)
            # a steady cadence, whatever the bot does: the next one at its own instant
            delay = started + (index - self._first_index + 1) * every - time.perf_counter()
            await asyncio.sleep(max(delay, 0))

    async def _start_probes(self, request: web.Request) -> web.Response:
        every = float(request.query.get("every_ms", "20")) / 1000
        if not 0.001 <= every <= 10:
            return web.json_response({"error": "every_ms must be within 1..10000"}, status=400)
        if self._prober is None:
            self._first_index = len(self._probes)
            self._prober = asyncio.get_running_loop().create_task(self._probe_every(every))
        return web.json_response({"probes": len(self._probes)})

    async def _stop_probes(self, request: web.Request) -> web.Response:
        if self._prober is not None:
            self._prober.cancel()
            self._prober = None
        return web.json_response({"probes": len(self._probes)})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "probes": [[p.kind, p.text, p.sent, p.answered] for p in self._probes],
                "sent": sum(self.sent_to.values()),
                "chats": len(self.sent_to),
                "twice": sum(1 for n in self.sent_to.values() if n > 1),
                "refused": self.refused,
                "refused_spans": self.refused_spans,
                "first_send": self.first_send,
                "last_send": self.last_send,
                "now": time.perf_counter(),
            }
        )

    # --- the Bot API -------------------------------------------------------------------

    def _inject(self, update: JSON) -> None:
        self._updates.append({**update, "update_id": next(self._update_ids)})
        self._changed.set()

    def _answered(self, method: str, key: str) -> None:
        index = self._waiting.pop((method, key), None)
        if index is not None:
            self._probes[index].answered = time.perf_counter()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _read_params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        except ApiError as exc:
            return _error(exc.code, exc.description, exc.retry_after)
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: JSON) -> JSON:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Chorus",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        return True

    async def _api_setMyCommands(self, params: JSON) -> bool:
        if not isinstance(params.get("commands"), list):
            raise ApiError(400, "Bad Request: commands must be an array")
        return True

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self._updates[:limit]

    async def _api_sendMessage(self, params: JSON) -> JSON:
        chat_id = _int(params, "chat_id")
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MESSAGE_MAX_CHARS:
            raise ApiError(400, "Bad Request: message is too long")
        self._flood_check()
        now = time.perf_counter()
        self.first_send = self.first_send if self.first_send is not None else now
        self.last_send = now
        self.sent_to[chat_id] += 1
        self._answered("sendMessage", str(chat_id))
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Someone"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Chorus"},
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    async def _api_editMessageText(self, params: JSON) -> JSON:
        text = str(params.get("text", ""))
        if not text.strip() or len(text) > MESSAGE_MAX_CHARS:
            raise ApiError(400, "Bad Request: message text is empty or too long")
        return {
            "message_id": _int(params, "message_id"),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": {"id": _int(params, "chat_id"), "type": "private", "first_name": "Someone"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Chorus"},
            "text": text,
        }

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if not query_id:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text", ""))) > ALERT_MAX_CHARS:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._answered("answerCallbackQuery", query_id)
        return True

    def _flood_check(self) -> None:
        """Telegram's overall limit: at most ``max_per_second`` messages in any second."""
        if self.max_per_second is None:
            return
        now = time.perf_counter()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= self.max_per_second:
            self.refused += 1
            self.refused_spans.append(now - self._window[0])
            wait = max(1, math.ceil(1.0 - (now - self._window[0])))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        self._window.append(now)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


async def _read_params(request: web.Request) -> JSON:
    """PTB sends form fields (JSON-encoded when not strings) or, for some calls, JSON."""
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    raw = await request.read()
    params: JSON = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    for name in _JSON_FIELDS & params.keys():
        with contextlib.suppress(ValueError):
            params[name] = json.loads(params[name])
    return params


def _int(params: JSON, name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {name} is invalid") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--max-per-second", type=int, help="Telegram's overall flood limit (default: none)"
    )
    args = parser.parse_args()
    if args.max_per_second is not None and args.max_per_second < 1:
        parser.error("--max-per-second must be at least 1")

    async def serve() -> None:
        wire = TelegramWire(max_per_second=args.max_per_second)
        print(json.dumps({"url": await wire.start(args.port), "token": wire.token}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await wire.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
