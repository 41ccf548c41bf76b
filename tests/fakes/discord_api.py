"""A loopback Discord: the REST API v10 and the gateway websocket, on 127.0.0.1.

discord.py runs unmodified against it (``Route.BASE`` and the gateway URL point here),
so the tests exercise the real library: its HTTP client and rate limiter, its gateway
handshake and heartbeat, its interaction and view dispatch. The fake keeps a small world
(one guild with channels, roles and members), records every REST call, answers JSON with
exactly ``Content-Type: application/json`` as Discord does, enforces the interaction
rules that bite in production (acknowledge once, within 3 seconds) and can answer any
route with a 429 on demand. Files come as Discord takes them: a multipart body with
``payload_json`` and ``files[n]`` parts, each named in ``payload_json.attachments``; at most
10 per message and 10 MiB each; the message then lists them as ``attachments`` and the
bytes are kept in ``uploads`` (by attachment id).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import discord_builders as b

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
INTERACTION_DEADLINE_SECONDS = 3.0
EPHEMERAL = 1 << 6
MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
LOADING = 1 << 7

# interaction callback types
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 1, 4, 5, 6, 7, 9


@dataclass
class Call:
    """One REST request the bot made, as the fake saw it."""

    method: str
    path: str  # below /api/v10, e.g. "/channels/10/messages"
    query: dict[str, str]
    body: Any
    status: int = 200
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # part -> (name, data)

    def matches(self, method: str, pattern: str) -> bool:
        return self.method == method and re.fullmatch(pattern, self.path) is not None


@dataclass
class Person:
    """A member of the fake guild."""

    user: dict[str, Any]
    roles: list[str] = field(default_factory=list)
    permissions: int = b.EVERYONE_PERMISSIONS

    @property
    def id(self) -> str:
        return str(self.user["id"])

    def member(self) -> dict[str, Any]:
        return b.member(self.user, roles=self.roles, permissions=self.permissions)


@dataclass
class _RateLimit:
    method: str
    pattern: str
    retry_after: float
    times: int
    is_global: bool


@dataclass
class _PendingInteraction:
    payload: dict[str, Any]
    received_at: float
    acknowledged: bool = False
    original_id: str | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)  # messages shown, or modals


class FakeDiscord:
    """The Discord API and gateway for one bot in one guild."""

    def __init__(self, *, token: str = "discord-token-not-real", locale: str = "en-US") -> None:
        self.token = token
        self.application_id = b.snowflake()
        self.bot_user = b.user(b.snowflake(), "chorus", bot=True)
        self.guild_id = b.snowflake()
        self.locale = locale
        self.channels = {
            "general": b.text_channel(b.snowflake(), self.guild_id, "general", position=0),
            "moderation": b.text_channel(b.snowflake(), self.guild_id, "moderation", position=1),
        }
        self.moderator_role = b.role(b.snowflake(), "Chorus moderators", position=2)
        self.roles = [
            b.role(self.guild_id, "@everyone", permissions=b.EVERYONE_PERMISSIONS, position=0),
            self.moderator_role,
        ]
        self.people: dict[str, Person] = {}
        for name in ("owner", "organiser", "moderator", "supporter", "outsider"):
            self.add_person(name)
        self.people["owner"].permissions = b.ADMIN_PERMISSIONS
        self.people["moderator"].roles.append(self.moderator_role["id"])

        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}  # attachment id -> the bytes uploaded
        self.dm_channels: dict[str, dict[str, Any]] = {}  # user id -> channel
        self.closed_dms: set[str] = set()  # user ids who accept no DMs from this bot
        self.commands: list[dict[str, Any]] = []
        self.modals: list[dict[str, Any]] = []  # modals the bot opened, newest last
        self.attachments: dict[str, bytes] = {}  # attachment id -> what a person uploaded
        self.downloads: list[str] = []  # attachment ids the bot fetched from the CDN
        self.identified = 0
        self.gateway_url_override: str | None = None

        self._interactions: dict[str, _PendingInteraction] = {}  # by token
        self._rate_limits: list[_RateLimit] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ world

    def add_person(self, name: str) -> Person:
        person = Person(b.user(b.snowflake(), name, global_name=name.capitalize()))
        self.people[name] = person
        return person

    def guild_payload(self) -> dict[str, Any]:
        return b.guild(
            self.guild_id,
            "Chorus test guild",
            owner_id=self.people["owner"].id,
            channels=list(self.channels.values()),
            roles=self.roles,
            members=[p.member() for p in self.people.values()]
            + [b.member(self.bot_user, permissions=b.ADMIN_PERMISSIONS)],
            locale=self.locale,
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{id}/{filename}", self._cdn)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1000)
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ test control

    def rate_limit(
        self,
        method: str,
        pattern: str,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with a 429."""
        self._rate_limits.append(_RateLimit(method, pattern, retry_after, times, is_global))

    def context(
        self, person: str, channel: str | None = "general", *, locale: str | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for the interaction builders: who, where, in which language."""
        someone = self.people[person]
        language = locale or self.locale
        if channel is None:
            dm = self.dm_channels.get(someone.id) or b.dm_channel(b.snowflake(), someone.user)
            self.dm_channels[someone.id] = dm
            return {
                "application_id": self.application_id,
                "who": someone.user,
                "channel": dm,
                "guild_id": None,
                "locale": language,
                "guild_locale": None,
            }
        return {
            "application_id": self.application_id,
            "who": someone.member(),
            "channel": self.channels[channel],
            "guild_id": self.guild_id,
            "locale": language,
            "guild_locale": self.locale,
        }

    async def inject(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an INTERACTION_CREATE over the gateway; return the payload."""
        self._interactions[payload["token"]] = _PendingInteraction(payload, time.monotonic())
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def slash(self, person: str, name: str, channel: str | None = "general", **kw: Any):
        locale = kw.pop("locale", None)
        options = {k: str(v) for k, v in kw.items()}
        command_id = next((c["id"] for c in self.commands if c["name"] == name), "0")
        context = self.context(person, channel, locale=locale)
        return await self.inject(b.slash_command(name, options, command_id=command_id, **context))

    async def slash_with_file(
        self,
        person: str,
        name: str,
        option: str,
        data: bytes,
        *,
        filename: str = "picture.jpg",
        content_type: str = "image/jpeg",
        channel: str | None = "general",
    ) -> dict[str, Any]:
        """``/name option:<file>``: as Discord sends it, the option's value is the
        attachment's id and the attachment (size, CDN url) is in ``data.resolved``."""
        attachment_id = b.snowflake()
        self.attachments[attachment_id] = data
        context = self.context(person, channel)
        url = (
            f"http://127.0.0.1:{self.port}/attachments/"
            f"{context['channel']['id']}/{attachment_id}/{filename}"
        )
        command_id = next((c["id"] for c in self.commands if c["name"] == name), "0")
        payload = b.slash_command(name, None, command_id=command_id, **context)
        payload["data"]["options"] = [{"name": option, "type": 11, "value": attachment_id}]
        payload["data"]["resolved"] = {
            "attachments": {
                attachment_id: {
                    "id": attachment_id,
                    "filename": filename,
                    "size": len(data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": content_type,
                    "ephemeral": True,
                }
            }
        }
        return await self.inject(payload)

    async def _cdn(self, request: web.Request) -> web.Response:
        attachment_id = request.match_info["id"]
        if attachment_id not in self.attachments:
            return web.Response(status=404)
        self.downloads.append(attachment_id)
        return web.Response(body=self.attachments[attachment_id], content_type="image/jpeg")

    async def press(
        self, person: str, message_id: str, custom_id: str, *, locale: str | None = None
    ) -> dict[str, Any]:
        """``person`` presses the button ``custom_id`` under the message ``message_id``."""
        message = self.messages[message_id]
        ids = [c["custom_id"] for c in self.buttons(message) if "custom_id" in c]
        assert custom_id in ids, f"no button {custom_id} on message {message_id}: {ids}"
        channel = self._channel_name(message["channel_id"])
        context = self.context(person, channel, locale=locale)
        return await self.inject(b.button_press(custom_id, message, **context))

    async def submit_modal(
        self,
        person: str,
        custom_id: str,
        values: dict[str, str],
        channel: str | None = "general",
        *,
        locale: str | None = None,
    ) -> dict[str, Any]:
        context = self.context(person, channel, locale=locale)
        return await self.inject(b.modal_submit(custom_id, values, **context))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._sequence += 1
        frame = {"op": 0, "t": event, "s": self._sequence, "d": data}
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(frame))

    async def wait_for(
        self, condition: Callable[[], Any], *, within: float = 5.0, what: str = "condition"
    ) -> Any:
        """Wait (bounded) until ``condition()`` returns something truthy; return it."""
        deadline = time.monotonic() + within
        while True:
            self._changed.clear()
            result = condition()
            if result:
                return result
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; calls: {self.summary()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_for_call(
        self, method: str, pattern: str, *, after: int = 0, within: float = 5.0
    ) -> Call:
        """The first call from index ``after`` on matching ``method`` and path ``pattern``."""

        def find() -> Call | None:
            return next((c for c in self.calls[after:] if c.matches(method, pattern)), None)

        return await self.wait_for(find, within=within, what=f"{method} {pattern}")

    async def reply_to(
        self, payload: dict[str, Any], number: int = 1, *, within: float = 5.0
    ) -> dict[str, Any]:
        """The ``number``-th answer the bot gave to an interaction: a message or a modal.

        A message answer is a snapshot of the message as that answer left it.
        """
        pending = self._interactions[payload["token"]]

        def answer() -> dict[str, Any] | None:
            if len(pending.answers) < number:
                return None
            return pending.answers[number - 1]

        return await self.wait_for(answer, within=within, what=f"answer {number} to interaction")

    def acknowledged(self, payload: dict[str, Any]) -> bool:
        return self._interactions[payload["token"]].acknowledged

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.matches(method, pattern)]

    def summary(self) -> list[str]:
        return [f"{c.method} {c.path} -> {c.status}" for c in self.calls]

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages the bot posted in a channel itself (not answers to interactions)."""
        channel_id = self.channels[channel]["id"]
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id and "_token" not in m
        ]

    def dm_messages(self, person: str) -> list[dict[str, Any]]:
        dm = self.dm_channels.get(self.people[person].id)
        if dm is None:
            return []
        return [m for m in self.messages.values() if m["channel_id"] == dm["id"]]

    def interaction_messages(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages the bot sent in answer to one interaction (original first)."""
        token = payload["token"]
        return [m for m in self.messages.values() if m.get("_token") == token]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            c
            for row in message.get("components", [])
            for c in row.get("components", [])
            if c.get("type") == 2
        ]

    @staticmethod
    def text_of(message: dict[str, Any]) -> str:
        """Everything a person reads in a message: content, embeds, button labels."""
        pieces = [message.get("content") or ""]
        for embed in message.get("embeds", []):
            pieces.append(embed.get("title") or "")
            pieces.append(embed.get("description") or "")
            for fld in embed.get("fields", []):
                pieces.extend([fld.get("name", ""), fld.get("value", "")])
            pieces.append((embed.get("footer") or {}).get("text", ""))
        pieces.extend(c.get("label", "") for c in FakeDiscord.buttons(message))
        return "\n".join(p for p in pieces if p)

    def _channel_name(self, channel_id: str) -> str | None:
        for name, channel in self.channels.items():
            if channel["id"] == channel_id:
                return name
        return None

    def _touch(self) -> None:
        self._changed.set()

    # ---------------------------------------------------------------- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._identify(ws, frame["d"])
                elif op == 6:
                    self._sequence += 1
                    await ws.send_str(
                        json.dumps({"op": 0, "t": "RESUMED", "s": self._sequence, "d": {}})
                    )
        finally:
            self._sockets.remove(ws)
            self._touch()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identified += 1
        self._sequence += 1
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": f"session-{self.identified}",
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._sequence, "d": ready}))
        self._sequence += 1
        frame = {"op": 0, "t": "GUILD_CREATE", "s": self._sequence, "d": self.guild_payload()}
        await ws.send_str(json.dumps(frame))
        self._touch()

    # ------------------------------------------------------------------- REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: dict[str, tuple[str, bytes]] = {}
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                raw = form.get("payload_json")
                body = json.loads(str(raw)) if raw is not None else None
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        files[name] = (value.filename, value.file.read())
            else:
                text = await request.text()
                body = json.loads(text) if text else None
        call = Call(request.method, path, dict(request.query), body, files=files)
        self.calls.append(call)
        try:
            limited = self._take_rate_limit(call)
            if limited is not None:
                call.status = 429
                return limited
            if not self._authorised(request, path):
                call.status = 401
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            status, payload = self._route(call)
            call.status = status
            if status == 204:
                return web.Response(status=204)
            return _json(payload, status)
        finally:
            self._touch()

    def _take_rate_limit(self, call: Call) -> web.Response | None:
        for limit in self._rate_limits:
            if limit.times > 0 and call.matches(limit.method, limit.pattern):
                limit.times -= 1
                headers = {
                    "Retry-After": str(max(1, round(limit.retry_after))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(time.time() + limit.retry_after),
                    "X-RateLimit-Reset-After": str(limit.retry_after),
                    "X-RateLimit-Bucket": "fake-bucket",
                    "X-RateLimit-Scope": "global" if limit.is_global else "user",
                    "Via": "1.1 google",
                }
                if limit.is_global:
                    headers["X-RateLimit-Global"] = "true"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": limit.retry_after,
                    "global": limit.is_global,
                }
                return _json(body, 429, headers)
        return None

    def _authorised(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/interactions/", "/webhooks/")):
            return True  # the interaction token in the path is the credential
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _route(self, call: Call) -> tuple[int, Any]:
        routes: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = [
            ("GET", r"/users/@me", lambda: (200, self.bot_user)),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/gateway/bot", self._gateway_bot),
            ("GET", r"/gateway", lambda: (200, {"url": self.gateway_url})),
            ("GET", r"/applications/(\d+)/commands", lambda _a: (200, self.commands)),
            ("PUT", r"/applications/(\d+)/commands", self._put_commands),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._get_webhook_message),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._edit_webhook_message),
            ("POST", r"/channels/(\d+)/messages", self._create_message),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._delete_message),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("GET", r"/guilds/(\d+)/members/(\d+)", self._get_member),
            ("GET", r"/users/(\d+)", self._get_user),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, call.path)
            if method == call.method and match is not None:
                try:
                    return handler(*match.groups()) if match.groups() else handler()
                except _Refusal as refusal:
                    return refusal.status, {"message": refusal.message, "code": refusal.code}
        return 404, {"message": "404: Not Found", "code": 0}

    def _application(self) -> tuple[int, Any]:
        return 200, {
            "id": self.application_id,
            "name": "Chorus",
            "icon": None,
            "description": "Crowdspeaking",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.people["owner"].user,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "team": None,
        }

    def _gateway_bot(self) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url_override or self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    def _put_commands(self, app_id: str) -> tuple[int, Any]:
        _check(app_id == self.application_id, 404, 10002, "Unknown Application")
        body = self.calls[-1].body
        _check(isinstance(body, list), 400, 50035, "Invalid Form Body")
        stored = []
        for command in body:
            _check(re.fullmatch(r"[-_\w]{1,32}", command["name"]) is not None, 400, 50035, "name")
            _check(1 <= len(command.get("description", "")) <= 100, 400, 50035, "description")
            for text in (command.get("description_localizations") or {}).values():
                _check(1 <= len(text) <= 100, 400, 50035, "description_localizations")
            stored.append(
                {
                    **command,
                    "id": b.snowflake(),
                    "application_id": self.application_id,
                    "version": b.snowflake(),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "type": command.get("type", 1),
                }
            )
        self.commands = stored
        return 200, stored

    def _interaction(self, token: str) -> _PendingInteraction:
        pending = self._interactions.get(token)
        _check(pending is not None, 404, 10015, "Unknown Webhook")
        assert pending is not None
        return pending

    def _callback(self, interaction_id: str, token: str) -> tuple[int, Any]:
        pending = self._interactions.get(token)
        _check(pending is not None, 404, 10062, "Unknown interaction")
        assert pending is not None
        _check(not pending.acknowledged, 400, 40060, "Interaction has already been acknowledged.")
        late = time.monotonic() - pending.received_at > INTERACTION_DEADLINE_SECONDS
        _check(not late, 404, 10062, "Unknown interaction")
        pending.acknowledged = True
        body = self.calls[-1].body or {}
        kind = body.get("type")
        data = body.get("data") or {}
        reply: dict[str, Any] = {"interaction": {"id": interaction_id, "type": kind}}
        if kind == MODAL:
            _check(len(data.get("title", "")) <= 45, 400, 50035, "modal title")
            self.modals.append(data)
            pending.answers.append({"modal": data})
        elif kind in (MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags", 0))
            if kind == DEFERRED_MESSAGE:
                flags |= LOADING
            message = self._store_message(
                pending.payload["channel_id"], data, flags=flags, token=token
            )
            pending.original_id = message["id"]
            reply["interaction"].update(
                response_message_id=message["id"],
                response_message_loading=kind == DEFERRED_MESSAGE,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            reply["resource"] = {"type": kind, "message": message}
            if kind == MESSAGE:
                pending.answers.append(copy.deepcopy(message))
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            _check("message" in pending.payload, 400, 50035, "not a component interaction")
            original = pending.payload["message"]
            stored = self.messages.setdefault(original["id"], original)
            stored["_token"] = stored.get("_token", token)
            pending.original_id = original["id"]
            if kind == UPDATE_MESSAGE:
                self._apply_edit(stored, data)
                reply["resource"] = {"type": kind, "message": stored}
                pending.answers.append(copy.deepcopy(stored))
        return 200, reply

    def _followup(self, app_id: str, token: str) -> tuple[int, Any]:
        _check(app_id == self.application_id, 404, 10015, "Unknown Webhook")
        pending = self._interaction(token)
        _check(pending.acknowledged, 400, 10015, "Unknown Webhook")
        body = self.calls[-1].body or {}
        message = self._store_message(
            pending.payload["channel_id"], body, flags=int(body.get("flags", 0)), token=token
        )
        pending.answers.append(copy.deepcopy(message))
        return 200, message

    def _webhook_target(self, token: str, message_id: str) -> dict[str, Any]:
        pending = self._interaction(token)
        target = pending.original_id if message_id == "@original" else message_id
        _check(target is not None and target in self.messages, 404, 10008, "Unknown Message")
        assert target is not None
        return self.messages[target]

    def _get_webhook_message(self, app_id: str, token: str, message_id: str) -> tuple[int, Any]:
        return 200, self._webhook_target(token, message_id)

    def _edit_webhook_message(self, app_id: str, token: str, message_id: str) -> tuple[int, Any]:
        message = self._webhook_target(token, message_id)
        self._apply_edit(message, self.calls[-1].body or {})
        message["flags"] = int(message.get("flags", 0)) & ~LOADING
        self._interaction(token).answers.append(copy.deepcopy(message))
        return 200, message

    def _create_message(self, channel_id: str) -> tuple[int, Any]:
        known = {c["id"] for c in self.channels.values()} | {
            c["id"] for c in self.dm_channels.values()
        }
        _check(channel_id in known, 404, 10003, "Unknown Channel")
        # a member who closed their DMs: the DM channel opens, the message is refused
        closed = {self.dm_channels[u]["id"] for u in self.closed_dms if u in self.dm_channels}
        _check(channel_id not in closed, 403, 50007, "Cannot send messages to this user")
        body = self.calls[-1].body or {}
        _check(
            bool(
                body.get("content")
                or body.get("embeds")
                or body.get("components")
                or self.calls[-1].files
            ),
            400,
            50006,
            "Cannot send an empty message",
        )
        return 200, self._store_message(channel_id, body, flags=int(body.get("flags", 0)))

    def _edit_message(self, channel_id: str, message_id: str) -> tuple[int, Any]:
        message = self.messages.get(message_id)
        _check(message is not None and message["channel_id"] == channel_id, 404, 10008, "msg")
        assert message is not None
        self._apply_edit(message, self.calls[-1].body or {})
        return 200, message

    def _get_message(self, channel_id: str, message_id: str) -> tuple[int, Any]:
        message = self.messages.get(message_id)
        _check(message is not None and message["channel_id"] == channel_id, 404, 10008, "msg")
        return 200, message

    def _delete_message(self, channel_id: str, message_id: str) -> tuple[int, Any]:
        message = self.messages.get(message_id)
        _check(message is not None and message["channel_id"] == channel_id, 404, 10008, "msg")
        del self.messages[message_id]
        return 204, None

    def _open_dm(self) -> tuple[int, Any]:
        recipient = str((self.calls[-1].body or {}).get("recipient_id"))
        person = next((p for p in self.people.values() if p.id == recipient), None)
        _check(person is not None, 400, 50007, "Cannot send messages to this user")
        assert person is not None
        channel = self.dm_channels.get(recipient) or b.dm_channel(b.snowflake(), person.user)
        self.dm_channels[recipient] = channel
        return 200, channel

    def _get_member(self, guild_id: str, user_id: str) -> tuple[int, Any]:
        person = next((p for p in self.people.values() if p.id == user_id), None)
        _check(guild_id == self.guild_id and person is not None, 404, 10007, "Unknown Member")
        assert person is not None
        return 200, person.member()

    def _get_user(self, user_id: str) -> tuple[int, Any]:
        person = next((p for p in self.people.values() if p.id == user_id), None)
        _check(person is not None, 404, 10013, "Unknown User")
        assert person is not None
        return 200, person.user

    def _store_message(
        self, channel_id: str, body: dict[str, Any], *, flags: int, token: str | None = None
    ) -> dict[str, Any]:
        _check(len(body.get("content") or "") <= 2000, 400, 50035, "content too long")
        for embed in body.get("embeds") or []:
            _check(len(embed.get("description") or "") <= 4096, 400, 50035, "embed too long")
            _check(len(embed.get("title") or "") <= 256, 400, 50035, "embed title too long")
        for row in body.get("components") or []:
            for component in row.get("components") or []:
                _check(len(component.get("url") or "") <= 512, 400, 50035, "url too long")
        message = b.message(
            b.snowflake(),
            channel_id,
            self.bot_user,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags,
            guild_id=self.guild_id if self._channel_name(channel_id) else None,
        )
        if token is not None:
            message["_token"] = token
        message["attachments"] = self._attachments(body)
        self.messages[message["id"]] = message
        return message

    def _attachments(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The files of the current request, as the attachments Discord would list."""
        files = self.calls[-1].files
        named = body.get("attachments") or []
        _check(len(files) <= MAX_FILES, 400, 50035, "too many attachments")
        found: list[dict[str, Any]] = []
        for entry in named:
            part = f"files[{entry.get('id')}]"
            if "id" in entry and part not in files:
                kept = next((a for a in self._kept_attachments(entry)), None)
                _check(kept is not None, 400, 50035, "attachment not found")
                assert kept is not None
                found.append(kept)
                continue
            _check(part in files, 400, 50035, f"no file part for {part}")
            filename, data = files[part]
            _check(0 < len(data) <= MAX_FILE_BYTES, 413, 40005, "Request entity too large")
            attachment_id = b.snowflake()
            self.uploads[attachment_id] = data
            url = f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{filename}"
            found.append(
                {
                    "id": attachment_id,
                    "filename": entry.get("filename") or filename,
                    "size": len(data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": _content_type(filename),
                }
            )
        return found

    def _kept_attachments(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            a
            for m in self.messages.values()
            for a in m.get("attachments", [])
            if a["id"] == str(entry.get("id"))
        ]

    def _apply_edit(self, message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "attachments" in body and body["attachments"] is not None:
            message["attachments"] = self._attachments(body)
        message["edited_timestamp"] = b.now_iso()


def _content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _check(condition: bool, status: int, code: int, message: str) -> None:
    if not condition:
        raise _Refusal(status, code, message)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer whose Content-Type is exactly ``application/json``, as Discord's."""
    response = web.Response(body=json.dumps(payload).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response
