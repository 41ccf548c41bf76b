"""A loopback Telegram Bot API server, so the real python-telegram-bot runs in tests.

It serves ``/bot<token>/<method>`` on 127.0.0.1 with Telegram's JSON shapes
(``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``),
accepts form or JSON bodies as PTB sends them, records every call, and lets a test
inject updates (messages, button presses) that long-polling ``getUpdates`` hands out.
Inline mode too: a test types an inline query, the bot answers it (results checked as
Telegram checks them), the person picks a result, which becomes an inline message the
bot may edit by its ``inline_message_id``. Failures are on demand: blocked users (403), a
one-shot flood limit (429 with ``retry_after``), or Telegram's overall one
(``max_per_second``), admins per chat for ``getChatMember``.

Channels follow Telegram's rules for them: ``getChat`` finds a public channel by
``@username`` (a private one only while the bot is in it), only an administrator with
``can_post_messages`` may post or edit there, a bot that is not an administrator cannot
read the member list, and channel posts arrive as ``channel_post`` updates with no author.

Files: ``sendPhoto`` and ``sendDocument`` take a multipart upload (or ``attach://`` names
it), checked as Telegram checks them (a photo must decode as an image within the size
rules, captions at most 1024 characters); the call keeps the bytes as an ``Upload``.

Webhooks: once the bot calls ``setWebhook`` (checked as Telegram checks it: HTTPS on
port 443, 80, 88 or 8443, a secret token of letters, digits, _ and -; plain HTTP is
accepted on a loopback address only, the one departure, so tests need no certificate),
``getUpdates`` fails with 409 and queued updates are POSTed to the bot's URL instead, one
at a time and in order, with the ``X-Telegram-Bot-Api-Secret-Token`` header; an update is
resent until the bot answers 2xx, and ``getWebhookInfo`` reports the last error as
Telegram does. ``post_to_webhook`` lets a test POST whatever it likes (an attacker).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from tests.fakes import telegram_builders as tb

JSON = dict[str, Any]

FAKE_TOKEN = "123456789:test-token-not-real"
BOT_ID = 123456789
BOT_USERNAME = "chorus_test_bot"

# PTB sends form fields; strings go raw, everything else JSON-encoded. These are decoded.
_JSON_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
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
        "allow_sending_without_reply",
        "reply_to_message_id",
        "results",
        "is_personal",
        "button",
        "max_connections",
    }
)
CALLBACK_DATA_MAX_BYTES = 64
MESSAGE_MAX_CHARS = 4096
CAPTION_MAX_CHARS = 1024
PHOTO_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
PHOTO_MAX_SIDES = 10000  # width + height
ALERT_MAX_CHARS = 200
INLINE_RESULTS_MAX = 50
INLINE_RESULT_ID_MAX_BYTES = 64
INLINE_RESULT_TYPES = frozenset({"article"})  # the kinds the bot sends; others are refused
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_RETRY_SECONDS = 0.05  # Telegram waits longer between attempts; tests need not


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        data: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One request the bot made, with its decoded parameters and what we answered."""

    method: str
    params: JSON
    ok: bool = True
    error: str = ""
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except ValueError:  # a channel's "@username"
            return None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[JSON]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class _Failure:
    method: str
    code: int
    description: str
    retry_after: int | None
    match: Callable[[JSON], bool] | None


@dataclass
class FakeTelegramApi:
    token: str = FAKE_TOKEN
    username: str = BOT_USERNAME
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], JSON] = field(default_factory=dict)
    chats: dict[int, JSON] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    post_rights: dict[tuple[int, int], bool] = field(default_factory=dict)  # channel admins
    blocked: set[int] = field(default_factory=set)
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    inline_answers: dict[str, JSON] = field(default_factory=dict)  # query id -> parameters
    inline_messages: dict[str, JSON] = field(default_factory=dict)  # inline_message_id ->
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> what users uploaded
    downloads: list[str] = field(default_factory=list)  # the file paths the bot downloaded
    max_per_second: int | None = None  # Telegram's overall flood limit on sendMessage
    refused: int = 0  # 429s the flood limit gave

    def __post_init__(self) -> None:
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._inline_ids = itertools.count(1)
        self._inline_queries: dict[str, JSON] = {}  # asked, by id: what was typed, by whom
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._failures: list[_Failure] = []
        self._sent_times: deque[float] = deque()  # accepted sendMessage in the last second
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""
        self.webhook: JSON = {}  # setWebhook's parameters while a webhook is set
        self.webhook_error: tuple[int, str] | None = None  # (unix time, message)
        self.delivered: list[tuple[JSON, int]] = []  # (update, HTTP status) per attempt
        self._delivery: asyncio.Task[None] | None = None
        self.bot = tb.user(BOT_ID, "Chorus", username=self.username, is_bot=True)

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a random loopback port; return the base URL (``TELEGRAM_API_URL``)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        self._closing = True  # release long polls still waiting
        await self._notify()
        await self._stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what tests arrange ------------------------------------------------------------

    def make_admin(
        self, chat_id: int, user_id: int, *, owner: bool = False, can_post: bool = True
    ) -> None:
        """``can_post``: in a channel, whether this administrator may post and edit."""
        self.members[(chat_id, user_id)] = "creator" if owner else "administrator"
        self.post_rights[(chat_id, user_id)] = can_post

    def add_channel(self, channel: JSON) -> None:
        """A channel exists (the bot is not in it until ``set_bot_status``)."""
        self.chats[channel["id"]] = channel

    def set_bot_status(self, chat: JSON, status: str, *, by: JSON, can_post: bool = True) -> JSON:
        """``by`` changes the bot's membership in ``chat`` (``administrator``, ``member``,
        ``left``, ``kicked``); the bot gets the ``my_chat_member`` update."""
        self.chats.setdefault(chat["id"], chat)
        key = (chat["id"], BOT_ID)
        old = self._member(chat["id"], BOT_ID)
        self.members[key] = status
        self.post_rights[key] = can_post
        new = self._member(chat["id"], BOT_ID)
        return self.inject(tb.my_chat_member_update(0, chat, by, old, new))

    def post_in_channel(self, channel: JSON, text: str) -> JSON:
        """The channel publishes ``text`` (as its own admins post: no author)."""
        self.chats.setdefault(channel["id"], channel)
        message = tb.channel_post(self._next_message_id(channel["id"]), channel, text)
        self.messages[(channel["id"], message["message_id"])] = message
        self.inject(tb.channel_post_update(0, message))
        return message

    def block(self, user_id: int) -> None:
        """The user blocked the bot: private messages to them now fail with 403."""
        self.blocked.add(user_id)

    def fail_next(
        self,
        method: str,
        *,
        code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
        match: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Answer the next ``method`` call (matching ``match``) with an error, once."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if code == 429 else "Bad Request"
            )
        self._failures.append(
            _Failure(method, code, description, retry_after if code == 429 else None, match)
        )

    def inject(self, update: JSON) -> JSON:
        """Queue a raw update for ``getUpdates``; ``update_id`` is assigned here."""
        update = {**update, "update_id": next(self._update_ids)}
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def say(self, sender: JSON, chat: JSON, text: str, *, reply_to: JSON | None = None) -> JSON:
        """``sender`` writes ``text`` in ``chat``; returns the message as Telegram built it."""
        self.chats.setdefault(chat["id"], chat)
        message = tb.text_message(
            self._next_message_id(chat["id"]), sender, chat, text, reply_to=reply_to
        )
        self.messages[(chat["id"], message["message_id"])] = message
        self.inject(tb.message_update(0, message))
        return message

    def send_photo(self, sender: JSON, chat: JSON, data: bytes, *, caption: str = "") -> JSON:
        """``sender`` sends a photo of ``data`` in ``chat``. As Telegram does, the message
        lists the photo in several sizes, smallest first (here a thumbnail and the
        original); each has its own ``file_id`` to fetch with ``getFile``."""
        self.chats.setdefault(chat["id"], chat)
        message_id = self._next_message_id(chat["id"])
        sizes = []
        for label, side, content in (("thumb", 90, data[:64]), ("full", 1280, data)):
            file_id = f"AgAC-{label}-{chat['id']}-{message_id}"
            self.files[file_id] = content
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": f"AQAD{label}{message_id}",
                    "width": side,
                    "height": side * 3 // 4,
                    "file_size": len(content),
                }
            )
        message = tb.text_message(message_id, sender, chat, "")
        del message["text"]
        message["photo"] = sizes
        if caption:
            message["caption"] = caption
        self.messages[(chat["id"], message_id)] = message
        self.inject(tb.message_update(0, message))
        return message

    def press(self, sender: JSON, message: JSON, data: str) -> str:
        """``sender`` presses the button with callback ``data`` under ``message``.

        Returns the callback query id, to find the bot's ``answerCallbackQuery``.
        """
        current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        query_id = f"cq{next(self._query_ids)}"
        self.inject(tb.callback_update(0, query_id, sender, current, data))
        return query_id

    def inline_query(self, sender: JSON, query: str, *, chat_type: str = "sender") -> str:
        """``sender`` types ``@bot query`` in a chat; returns the inline query id."""
        query_id = f"iq{next(self._inline_ids)}"
        inline_query = {
            "id": query_id,
            "from": sender,
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        self._inline_queries[query_id] = inline_query
        self.inject({"inline_query": inline_query})
        return query_id

    def choose(self, sender: JSON, query_id: str, result_id: str) -> str:
        """``sender`` picks ``result_id`` among the bot's answer to ``query_id``: the card
        is sent as an inline message; returns its ``inline_message_id``.

        Like Telegram, the chosen result names the message only when it has an inline
        keyboard (else it could never be edited).
        """
        answer = self.inline_answers[query_id]
        (result,) = [r for r in answer["results"] if r["id"] == result_id]
        inline_message_id = f"AgAAAI{next(self._inline_ids):06d}-inline"
        content = result["input_message_content"]
        message: JSON = {"text": content["message_text"], "from": sender}
        if result.get("reply_markup"):
            message["reply_markup"] = result["reply_markup"]
        self.inline_messages[inline_message_id] = message
        chosen: JSON = {
            "result_id": result_id,
            "from": sender,
            "query": self._inline_queries[query_id]["query"],
        }
        if "reply_markup" in message:
            chosen["inline_message_id"] = inline_message_id
        self.inject({"chosen_inline_result": chosen})
        return inline_message_id

    def delete_inline(self, inline_message_id: str) -> None:
        """The person deleted the inline message from their chat."""
        del self.inline_messages[inline_message_id]

    async def post_to_webhook(
        self,
        body: JSON | bytes,
        *,
        secret: str | None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """POST ``body`` to the bot's webhook (or to ``path`` on its host) with ``secret``
        in the header (None: no header), as anyone could; return the HTTP status."""
        url = str(self.webhook["url"])
        if path is not None:
            parts = urlsplit(url)
            url = f"{parts.scheme}://{parts.netloc}{path}"
        sent = {"Content-Type": "application/json", **(headers or {})}
        if secret is not None:
            sent[SECRET_HEADER] = secret
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=data, headers=sent) as response,
        ):
            await response.read()
            return response.status

    # --- what tests read -------------------------------------------------------------

    def mark(self) -> int:
        """A position in the call log; pass it as ``since`` to look only at later calls."""
        return len(self.calls)

    def find(
        self, method: str, where: Callable[[ApiCall], bool] | None = None, since: int = 0
    ) -> list[ApiCall]:
        return [
            call
            for call in self.calls[since:]
            if call.method == method and call.ok and (where is None or where(call))
        ]

    async def wait_for(
        self,
        method: str,
        where: Callable[[ApiCall], bool] | None = None,
        *,
        since: int = 0,
        within: float = 10.0,
    ) -> ApiCall:
        """The first successful ``method`` call after ``since`` matching ``where``.

        Waits (bounded) until the bot makes one; fails the test with the calls seen.
        """
        try:
            async with asyncio.timeout(within):
                async with self._changed:
                    while True:
                        found = self.find(method, where, since)
                        if found:
                            return found[0]
                        await self._changed.wait()
        except TimeoutError:
            seen = [(c.method, c.params.get("chat_id"), c.text[:60]) for c in self.calls[since:]]
            raise AssertionError(f"no matching {method} call; calls since: {seen}") from None

    def message(self, call: ApiCall) -> JSON:
        """The message (as stored now) that a sendMessage/editMessageText call produced."""
        result = call.result
        return self.messages[(result["chat"]["id"], result["message_id"])]

    def messages_in(self, chat_id: int) -> list[JSON]:
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id]

    # --- the HTTP side -----------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await _read_params(request)
        call = ApiCall(method, params)
        self.calls.append(call)
        try:
            failure = self._take_failure(method, params)
            if failure is not None:
                raise failure
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            call.ok, call.error = False, exc.description
            await self._notify()
            return web.json_response(exc.body(), status=exc.code)
        call.result = result
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str, params: JSON) -> ApiError | None:
        for failure in self._failures:
            if failure.method == method and (failure.match is None or failure.match(params)):
                self._failures.remove(failure)
                return ApiError(failure.code, failure.description, failure.retry_after)
        return None

    # --- Bot API methods -------------------------------------------------------------

    async def _api_getFile(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        content = self.files[file_id]
        if len(content) > 20 * 1024 * 1024:  # the Bot API serves files up to 20 MB
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-12:],
            "file_size": len(content),
            "file_path": f"photos/{file_id}.jpg",
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = path.removeprefix("photos/").removesuffix(".jpg")
        if file_id not in self.files:
            return web.Response(status=404)
        self.downloads.append(path)
        return web.Response(body=self.files[file_id], content_type="image/jpeg")

    async def _api_getMe(self, params: JSON) -> JSON:
        return {**self.bot, "can_join_groups": True, "can_read_all_group_messages": False}

    async def _api_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url", ""))
        if not url:
            return await self._api_deleteWebhook(params)
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ApiError(400, "Bad Request: bad webhook: invalid port specified") from None
        if not _is_loopback(parts.hostname or ""):  # the fake's one allowance: loopback
            if parts.scheme != "https":
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
            if port not in WEBHOOK_PORTS:
                raise ApiError(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports "
                    "80, 88, 443 or 8443",
                )
        elif parts.scheme not in ("http", "https"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not WEBHOOK_SECRET.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": None if secret is None else str(secret),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": int(params.get("max_connections") or 40),
        }
        self.webhook_error = None
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self._deliver())
        return True

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        self.webhook = {}
        await self._notify()  # the delivery loop sees there is no URL any more
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def _deliver(self) -> None:
        """POST queued updates to the webhook in order while one is set."""
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                async with self._changed:
                    await self._changed.wait_for(
                        lambda: self._closing or not self.webhook or bool(self._updates)
                    )
                if self._closing or not self.webhook:
                    return
                update = self._updates[0]
                if not _wanted(update, self.webhook["allowed_updates"]):
                    self._updates.pop(0)
                    continue
                status = await self._post(session, update)
                self.delivered.append((update, status))
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self.webhook_error = None
                else:
                    await asyncio.sleep(WEBHOOK_RETRY_SECONDS)
                await self._notify()

    async def _post(self, session: aiohttp.ClientSession, update: JSON) -> int:
        headers = {"Content-Type": "application/json"}
        if self.webhook.get("secret_token"):
            headers[SECRET_HEADER] = self.webhook["secret_token"]
        try:
            async with session.post(
                self.webhook["url"], data=json.dumps(update).encode(), headers=headers
            ) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    self.webhook_error = (
                        int(time.time()),
                        f"Wrong response from the webhook: {response.status} {response.reason}",
                    )
                return response.status
        except aiohttp.ClientError as exc:
            self.webhook_error = (int(time.time()), f"Connection failed: {exc}")
            return 0

    async def _stop_delivery(self) -> None:
        task, self._delivery = self._delivery, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_logOut(self, params: JSON) -> bool:
        return True

    async def _api_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be an array")
        for command in commands:
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not (1 <= len(name) <= 32 and name.islower() and 1 <= len(description) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, str(params.get("language_code", "")))] = commands
        return True

    async def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, str(params.get("language_code", ""))), [])

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            except TimeoutError:
                pass
        return self._updates[:limit]

    def _flood_check(self) -> None:
        """With ``max_per_second``: more sendMessage calls than that in any one second are
        refused with 429 and ``retry_after``, as Telegram does."""
        if self.max_per_second is None:
            return
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) >= self.max_per_second:
            self.refused += 1
            wait = max(1, math.ceil(1.0 - (now - self._sent_times[0])))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._sent_times.append(now)

    async def _api_sendMessage(self, params: JSON) -> JSON:
        self._flood_check()
        chat_id = self._chat_id(params)
        text = str(params.get("text", ""))
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_channel_rights(chat_id)
        _check_text(text)
        markup = _check_markup(params.get("reply_markup"))
        chat = self.chats.get(chat_id) or tb.chat_for_id(chat_id)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "text": text,
        }
        if chat.get("type") == "channel":
            message["sender_chat"] = chat  # channel posts are signed by the channel
        else:
            message["from"] = self.bot
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _api_sendPhoto(self, params: JSON) -> JSON:
        upload = _upload(params, "photo")
        if len(upload.data) > PHOTO_MAX_BYTES:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        try:
            with Image.open(io.BytesIO(upload.data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
        if width + height > PHOTO_MAX_SIDES or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        photo = {
            "file_id": f"photo-{len(self.calls)}",
            "file_unique_id": f"u-photo-{len(self.calls)}",
            "width": width,
            "height": height,
            "file_size": len(upload.data),
        }
        return self._file_message(params, {"photo": [photo]})

    async def _api_sendDocument(self, params: JSON) -> JSON:
        upload = _upload(params, "document")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(upload.data) > DOCUMENT_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        document = {
            "file_id": f"document-{len(self.calls)}",
            "file_unique_id": f"u-document-{len(self.calls)}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
        }
        return self._file_message(params, {"document": document})

    def _file_message(self, params: JSON, media: JSON) -> JSON:
        chat_id = self._chat_id(params)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_channel_rights(chat_id)
        caption = str(params.get("caption", ""))
        if len(caption) > CAPTION_MAX_CHARS:
            raise ApiError(400, "Bad Request: message caption is too long")
        chat = self.chats.get(chat_id) or tb.chat_for_id(chat_id)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot,
            **media,
        }
        if caption:
            message["caption"] = caption
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _api_editMessageText(self, params: JSON) -> JSON | bool:
        if "inline_message_id" not in params:
            self._check_channel_rights(self._chat_id(params))
        message = self._existing(params)
        text = str(params.get("text", ""))
        _check_text(text)
        markup = _check_markup(params.get("reply_markup"))
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return True if "inline_message_id" in params else message  # as Telegram answers

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        message = self._existing(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return True if "inline_message_id" in params else message

    async def _api_deleteMessage(self, params: JSON) -> bool:
        self._check_channel_rights(self._chat_id(params))
        key = (self._chat_id(params), _int(params, "message_id"))
        if self.messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text", ""))) > ALERT_MAX_CHARS:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        url = params.get("url")
        # without a game, Telegram only opens links to the bot itself (t.me/<bot>?start=...)
        if url is not None and not str(url).startswith(f"https://t.me/{self.username}?"):
            raise ApiError(400, "Bad Request: URL_INVALID")
        return True

    async def _api_answerInlineQuery(self, params: JSON) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > INLINE_RESULTS_MAX:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_inline_result(result)
            if result["id"] in seen:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(result["id"])
        cache_time = params.get("cache_time", 300)
        if not isinstance(cache_time, int) or cache_time < 0:
            raise ApiError(400, "Bad Request: cache_time is invalid")
        self.inline_answers[query_id] = params
        return True

    async def _api_getChatMember(self, params: JSON) -> JSON:
        chat_id, user_id = self._chat_id(params), _int(params, "user_id")
        if self._is_channel(chat_id) and user_id != BOT_ID and not self._bot_is_admin(chat_id):
            raise ApiError(400, "Bad Request: member list is inaccessible")
        return self._member(chat_id, user_id)

    async def _api_getChatAdministrators(self, params: JSON) -> list[JSON]:
        chat_id = self._chat_id(params)
        if self._is_channel(chat_id) and not self._bot_is_admin(chat_id):
            raise ApiError(400, "Bad Request: member list is inaccessible")
        return [
            self._member(chat, user)
            for (chat, user), status in self.members.items()
            if chat == chat_id and status in ("creator", "administrator")
        ]

    async def _api_getChat(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        outside = self.members.get((chat_id, BOT_ID), "left") in ("left", "kicked")
        hidden = self._is_channel(chat_id) and not chat.get("username") if chat else True
        if chat is None or (hidden and outside):  # a private channel shows only to members
            raise ApiError(400, "Bad Request: chat not found")
        return tb.full_chat(chat)

    # --- channels ----------------------------------------------------------------------

    def _chat_id(self, params: JSON) -> int:
        """``chat_id`` as a number; a ``@username`` names a public channel or a chat
        the bot is in, as Telegram resolves it."""
        value = params.get("chat_id")
        if isinstance(value, str) and value.startswith("@"):
            wanted = value[1:].lower()
            for chat_id, chat in self.chats.items():
                if str(chat.get("username", "")).lower() == wanted:
                    return chat_id
            raise ApiError(400, "Bad Request: chat not found")
        return _int(params, "chat_id")

    def _is_channel(self, chat_id: int) -> bool:
        return self.chats.get(chat_id, {}).get("type") == "channel"

    def _bot_is_admin(self, chat_id: int) -> bool:
        return self.members.get((chat_id, BOT_ID)) == "administrator"

    def _check_channel_rights(self, chat_id: int) -> None:
        """In a channel only an administrator with ``can_post_messages`` writes."""
        if not self._is_channel(chat_id):
            return
        status = self.members.get((chat_id, BOT_ID), "left")
        if status == "kicked":
            raise ApiError(403, "Forbidden: bot was kicked from the channel chat")
        if status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        if status != "administrator" or not self.post_rights.get((chat_id, BOT_ID), False):
            raise ApiError(400, "Bad Request: need administrator rights in the channel chat")

    def _member(self, chat_id: int, user_id: int) -> JSON:
        absent = "left" if user_id == BOT_ID and self._is_channel(chat_id) else "member"
        status = self.members.get((chat_id, user_id), absent)
        person = self.bot if user_id == BOT_ID else tb.user(user_id, f"User {user_id}")
        can_post = None
        if self._is_channel(chat_id) and status == "administrator":
            can_post = self.post_rights.get((chat_id, user_id), True)
        return tb.chat_member(person, status, can_post=can_post)

    def _existing(self, params: JSON) -> JSON:
        if "inline_message_id" in params:
            if "chat_id" in params or "message_id" in params:
                raise ApiError(400, "Bad Request: message identifier is not specified")
            inline = self.inline_messages.get(str(params["inline_message_id"]))
            if inline is None:
                raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
            return inline
        key = (self._chat_id(params), _int(params, "message_id"))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _wanted(update: JSON, allowed: Any) -> bool:
    """Whether ``allowed_updates`` lets ``update`` through (empty: every usual kind)."""
    if not allowed:
        return True
    return any(kind in update for kind in allowed)


async def _read_params(request: web.Request) -> JSON:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    raw = dict(await request.post()) if request.can_read_body else {}
    raw.update(request.query)
    params: JSON = {}
    for key, value in raw.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            params[key] = Upload(value.filename, value.content_type, data)
            continue
        value = str(value)
        if key in _JSON_FIELDS:
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    return params


def _upload(params: JSON, name: str) -> Upload:
    """The uploaded file for ``name``: the part itself, or the part ``attach://`` names."""
    value = params.get(name)
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value.removeprefix("attach://"))
    if not isinstance(value, Upload):
        raise ApiError(400, f"Bad Request: there is no {name} in the request")
    return value


def _int(params: JSON, name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {name} is invalid") from None


def _check_text(text: str) -> None:
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MESSAGE_MAX_CHARS:
        raise ApiError(400, "Bad Request: message is too long")


def _check_inline_result(result: Any) -> None:
    """Refuse what Telegram refuses in one inline query result (articles only here)."""
    if not isinstance(result, dict) or result.get("type") not in INLINE_RESULT_TYPES:
        raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
    result_id = str(result.get("id", ""))
    if not 1 <= len(result_id.encode()) <= INLINE_RESULT_ID_MAX_BYTES:
        raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
    if not str(result.get("title", "")).strip():
        raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or "message_text" not in content:
        raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
    _check_text(str(content["message_text"]))
    markup = _check_markup(result.get("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise ApiError(400, "Bad Request: REPLY_MARKUP_INVALID")  # inline keyboards only


def _check_markup(markup: Any) -> JSON | None:
    """Refuse what Telegram refuses in a keyboard: wrong data sizes, bad URLs."""
    if not markup:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            kinds = [k for k in ("url", "callback_data") if k in button]
            if len(kinds) != 1 or not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_MAX_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise ApiError(400, "Bad Request: inline keyboard button URL is invalid")
    return markup
