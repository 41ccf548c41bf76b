"""A loopback Mastodon instance: apps, OAuth with PKCE, accounts and statuses.

It honours ``Idempotency-Key`` (the same key from the same account returns the same
status instead of a second one), checks the S256 verifier, refuses scopes the app was not
registered for, and answers instance metadata with a recent version. It can also play a
hostile instance: ``drip`` sends a real answer one byte at a time, ``flood`` pads a real
answer with more bytes than any client should read. The public tag timeline
(``/api/v1/timelines/tag/:hashtag``) lists public statuses carrying the tag (case-folded),
newest first, ``limit`` at most 40, paged with ``max_id`` and a ``Link`` header as Mastodon
pages; ``add_remote_status`` puts a status from elsewhere on it, and
``public_timelines = False`` closes it to anonymous readers (422) as an admin can. Standalone:
``python -m tests.fakes.mastodon_api --port 8082 --latency-ms 100 --accounts 1000``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from tests.fakes.fast_http import RawRequest
from tests.fakes.loopback import LoopbackFake, run_standalone

VERSION = "4.3.0"
STATUS_LIMIT = 500
TIMELINE_LIMIT = 40
TAG_RE = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)


@dataclass
class MastodonUser:
    id: str
    username: str
    followers: int = 10
    statuses: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Hostile:
    """How to spoil the next ``times`` answers on ``path`` (a prefix; None for all)."""

    mode: str  # "drip" or "flood"
    path: str | None
    times: int
    every: float = 0.01  # drip: seconds between bytes
    size: int = 0  # flood: bytes of padding


@dataclass
class _App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: str


@dataclass
class _Code:
    user_id: str
    client_id: str
    challenge: str | None
    redirect_uri: str
    scope: str


class FakeMastodon(LoopbackFake):
    """Fake Mastodon instance. ``next_user`` says who approves the next authorisation."""

    name = "mastodon"

    def __init__(
        self, *, latency_ms: float = 0, now: Any = None, is_mastodon: bool = True
    ) -> None:
        self.is_mastodon = is_mastodon
        self.users: dict[str, MastodonUser] = {}
        self.tokens: dict[str, str] = {}  # access token -> user id
        self.apps: dict[str, _App] = {}
        self.codes: dict[str, _Code] = {}
        self.revoked: list[str] = []
        self.handed_out: list[str] = []  # every token, code and app secret, for leak checks
        self.deny_next = False
        self.next_user: str | None = None
        self.require_pkce = True
        self._ids = itertools.count(100)
        self._status_ids = itertools.count(110_000_000_000_000_000)
        self.posts = Counter[str]()
        self._stamped = (-1, "")
        self._hostile: list[Hostile] = []
        self.remote_statuses: list[dict[str, Any]] = []  # federated in, for tag timelines
        self.public_timelines = True
        super().__init__(latency_ms=latency_ms, now=now)
        self.app.middlewares.append(self._spoil)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/v1/instance", self.instance_v1)
        router.add_get("/api/v2/instance", self.instance_v2)
        router.add_post("/api/v1/apps", self.create_app)
        router.add_get("/oauth/authorize", self.authorize)
        router.add_post("/oauth/token", self.token)
        router.add_post("/oauth/revoke", self.revoke)
        router.add_get("/api/v1/accounts/verify_credentials", self.verify_credentials)
        router.add_post("/api/v1/statuses", self.post_status)
        router.add_get("/api/v1/accounts/{id}/statuses", self.account_statuses)
        router.add_get("/api/v1/timelines/tag/{hashtag}", self.tag_timeline)

    # ---- test helpers ----------------------------------------------------------------

    def add_user(self, username: str, followers: int = 10) -> MastodonUser:
        user = MastodonUser(str(next(self._ids)), username, followers)
        self.users[user.id] = user
        return user

    def issue_token(self, user_id: str) -> str:
        token = f"masto-token-{secrets.token_hex(8)}"
        self.tokens[token] = user_id
        if self.record_requests:  # benchmarks make 100,000 of them
            self.handed_out.append(token)
        return token

    def create_accounts(self, count: int) -> list[dict[str, str]]:
        made = []
        for _ in range(count):
            user = self.add_user(f"user{len(self.users) + 1}")
            made.append(
                {
                    "id": user.id,
                    "username": user.username,
                    "access_token": self.issue_token(user.id),
                }
            )
        return made

    def add_remote_status(
        self, text: str, created_at: Any, url: str, visibility: str = "public"
    ) -> dict[str, Any]:
        """A status from another server (or a local one not through the API), as seen here."""
        status_id = str(int(created_at.timestamp() * 1000) << 16 | len(self.remote_statuses))
        status = {
            "id": status_id,
            "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "content": f"<p>{_escape(text)}</p>",
            "visibility": visibility,
            "url": url,
            "uri": url,
            "account": {"id": "0", "username": "someone"},
        }
        self.remote_statuses.append(status)
        return status

    def drip(self, path: str | None = None, *, times: int = 1, every: float = 0.01) -> None:
        """Send the next answers on ``path`` a byte every ``every`` seconds (a slowloris)."""
        self._hostile.append(Hostile("drip", path, times, every=every))

    def flood(self, path: str | None = None, *, size: int, times: int = 1) -> None:
        """Pad the next answers on ``path`` with ``size`` bytes of JSON whitespace (still
        valid JSON, so only a size cap refuses it), streamed without a length."""
        self._hostile.append(Hostile("flood", path, times, size=size))

    def _take_hostile(self, path: str) -> Hostile | None:
        for hostile in self._hostile:
            if hostile.path is None or path.startswith(hostile.path):
                hostile.times -= 1
                if hostile.times <= 0:
                    self._hostile.remove(hostile)
                return hostile
        return None

    @web.middleware
    async def _spoil(self, request: web.Request, handler: Any) -> web.StreamResponse:
        hostile = self._take_hostile(request.path) if self._hostile else None
        if hostile is None:
            return await handler(request)  # type: ignore[no-any-return]
        answer = await handler(request)
        body = answer.body if isinstance(answer, web.Response) else None
        body = body if isinstance(body, bytes) else b""
        spoilt = web.StreamResponse(status=answer.status)
        spoilt.content_type = answer.content_type
        with contextlib.suppress(ConnectionError):  # the client gave up: that is the point
            if hostile.mode == "drip":
                spoilt.content_length = len(body)
                await spoilt.prepare(request)
                for index in range(len(body)):
                    await spoilt.write(body[index : index + 1])
                    await asyncio.sleep(hostile.every)
            else:
                spoilt.enable_chunked_encoding()
                await spoilt.prepare(request)
                await spoilt.write(body)
                chunk = b" " * 65536
                for _ in range(hostile.size // len(chunk) + 1):
                    await spoilt.write(chunk)
            await spoilt.write_eof()
        return spoilt

    def stats(self) -> dict[str, Any]:
        return {"posts_per_account": dict(self.posts), "posts": sum(self.posts.values())}

    def account_of(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.tokens.get(auth.removeprefix("Bearer "))
        return None

    # ---- instance and apps -----------------------------------------------------------

    async def instance_v1(self, request: web.Request) -> web.StreamResponse:
        if not self.is_mastodon:
            return web.Response(text="<html><body>Just a blog</body></html>", status=404)
        return web.json_response(
            {"uri": self.host, "title": "Fake Mastodon", "version": VERSION, "languages": ["en"]}
        )

    async def instance_v2(self, request: web.Request) -> web.StreamResponse:
        if not self.is_mastodon:
            return web.Response(text="<html><body>Just a blog</body></html>", status=404)
        return web.json_response(
            {
                "domain": self.host,
                "title": "Fake Mastodon",
                "version": VERSION,
                "api_versions": {"mastodon": 2},
            }
        )

    async def create_app(self, request: web.Request) -> web.Response:
        form = await _form(request)
        uris = str(form.get("redirect_uris", "")).split()
        if not form.get("client_name") or not uris:
            return web.json_response({"error": "Validation failed"}, status=422)
        app = _App(
            f"client-{secrets.token_hex(6)}",
            f"secret-{secrets.token_hex(6)}",
            uris,
            str(form.get("scopes", "read")),
        )
        self.apps[app.client_id] = app
        self.handed_out.append(app.client_secret)
        return web.json_response(
            {
                "id": str(len(self.apps)),
                "name": form["client_name"],
                "website": form.get("website"),
                "redirect_uri": "\n".join(uris),
                "redirect_uris": uris,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "scopes": app.scopes.split(),
            }
        )

    # ---- OAuth -----------------------------------------------------------------------

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        app = self.apps.get(q.get("client_id", ""))
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if app is None or redirect_uri not in app.redirect_uris:
            return web.json_response({"error": "invalid_client"}, status=400)
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return web.json_response({"error": "invalid_request"}, status=400)
        if not set(q.get("scope", "read").split()) <= set(app.scopes.split()):
            return web.json_response({"error": "invalid_scope"}, status=400)
        if self.deny_next:
            self.deny_next = False
            raise web.HTTPFound(
                f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}"
            )
        username = self.next_user or "bob"
        user = next((u for u in self.users.values() if u.username == username), None)
        user = user or self.add_user(username, followers=7)
        code = secrets.token_urlsafe(16)
        self.handed_out.append(code)
        self.codes[code] = _Code(
            user.id, app.client_id, challenge, redirect_uri, q.get("scope", "read")
        )
        raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    async def token(self, request: web.Request) -> web.Response:
        form = await _form(request)
        app = self.apps.get(str(form.get("client_id", "")))
        if app is None or app.client_secret != form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        code = self.codes.pop(str(form.get("code", "")), None)
        if code is None or code.client_id != app.client_id:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if code.redirect_uri != form.get("redirect_uri"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        if (code.challenge or self.require_pkce) and _s256(verifier) != code.challenge:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                status=400,
            )
        return web.json_response(
            {
                "access_token": self.issue_token(code.user_id),
                "token_type": "Bearer",
                "scope": code.scope,
                "created_at": int(self.now().timestamp()),
            }
        )

    async def revoke(self, request: web.Request) -> web.Response:
        form = await _form(request)
        token = str(form.get("token", ""))
        self.tokens.pop(token, None)
        self.revoked.append(token)
        return web.json_response({})

    # ---- API -------------------------------------------------------------------------

    def _user(self, request: web.Request) -> MastodonUser:
        user_id = self.account_of(request)
        if user_id is None:
            raise web.HTTPUnauthorized(
                text='{"error":"The access token is invalid"}', content_type="application/json"
            )
        return self.users[user_id]

    def _account_json(self, user: MastodonUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "acct": user.username,
            "display_name": user.username.title(),
            "locked": False,
            "bot": False,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{self.url}/@{user.username}",
            "avatar": f"{self.url}/avatar.png",
            "followers_count": user.followers,
            "following_count": 3,
            "statuses_count": len(user.statuses),
            "fields": [],
            "emojis": [],
        }

    async def verify_credentials(self, request: web.Request) -> web.Response:
        return web.json_response(self._account_json(self._user(request)))

    async def post_status(self, request: web.Request) -> web.Response:
        user = self._user(request)
        key = request.headers.get("Idempotency-Key")
        if key and key in user.by_key:
            return _json(user.by_key[key])
        status, body = self._new_status(user, await _form(request), key)
        return _json(body, status)

    def answer_fast(self, request: RawRequest) -> tuple[int, bytes]:
        """Benchmark mode (``fast_http``): posting a status is all it answers."""
        if request.method != "POST" or request.path != "/api/v1/statuses":
            return 404, b'{"error":"Record not found"}'
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        user_id = self.tokens.get(token)
        if user_id is None:
            return 401, b'{"error":"The access token is invalid"}'
        user = self.users[user_id]
        key = request.headers.get("idempotency-key")
        if key and key in user.by_key:
            return 200, _dump(user.by_key[key])
        status, body = self._new_status(user, _raw_form(request), key)
        return status, _dump(body)

    def _new_status(
        self, user: MastodonUser, form: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        text = str(form.get("status", "")).strip()
        if not text:
            return 422, {"error": "Validation failed: Text can't be blank"}
        if len(text) > STATUS_LIMIT:
            return 422, {"error": "Validation failed: Text character limit of 500 exceeded"}
        status_id = str(next(self._status_ids))
        status = {
            "id": status_id,
            "created_at": self._stamp(),
            "content": f"<p>{_escape(text)}</p>",
            "visibility": str(form.get("visibility") or "public"),
            "url": f"{self.url}/@{user.username}/{status_id}",
            "uri": f"{self.url}/users/{user.username}/statuses/{status_id}",
        }
        if self.record_requests:  # the full entity; benchmarks keep the fake's cost down
            status.update(
                account=self._account_json(user),
                reblog=None,
                sensitive=False,
                spoiler_text="",
                media_attachments=[],
                mentions=[],
                tags=[],
                emojis=[],
            )
        else:
            status["account"] = {"id": user.id, "username": user.username}
        user.statuses.append(status)
        self.posts[user.id] += 1
        if key:
            user.by_key[key] = status
        return 200, status

    def _stamp(self) -> str:
        """The current moment as Mastodon writes it (formatted once per second)."""
        now = self.now()
        second = int(now.timestamp())
        if self._stamped[0] != second:
            self._stamped = (second, now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        return self._stamped[1]

    async def account_statuses(self, request: web.Request) -> web.Response:
        self._user(request)
        user = self.users.get(request.match_info["id"])
        if user is None:
            return web.json_response({"error": "Record not found"}, status=404)
        limit = int(request.query.get("limit", "20"))
        return web.json_response(list(reversed(user.statuses))[:limit])

    async def tag_timeline(self, request: web.Request) -> web.Response:
        if not self.public_timelines and self.account_of(request) is None:
            return _json({"error": "This method requires an authenticated user"}, 422)
        tag = request.match_info["hashtag"].lower()
        try:
            limit = min(max(int(request.query.get("limit", "20")), 1), TIMELINE_LIMIT)
        except ValueError:
            return _json({"error": "limit is invalid"}, 400)
        everything = [s for user in self.users.values() for s in user.statuses]
        tagged = [
            s
            for s in everything + self.remote_statuses
            if s.get("visibility") == "public"
            and tag in {t.lower() for t in TAG_RE.findall(_unescape(str(s["content"])))}
        ]
        tagged.sort(key=lambda s: (s["created_at"], int(s["id"])), reverse=True)
        max_id = request.query.get("max_id")
        if max_id is not None:
            ids = [s["id"] for s in tagged]
            start = ids.index(max_id) + 1 if max_id in ids else len(tagged)
            tagged = tagged[start:]
        page = tagged[:limit]
        response = _json(page)
        if page:
            link = request.url.update_query(max_id=page[-1]["id"], limit=str(limit))
            response.headers["Link"] = f'<{link}>; rel="next"'
        return response


def _unescape(html: str) -> str:
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def _form(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    if request.content_type == "application/x-www-form-urlencoded":  # cheaper than post()
        raw = await request.read()
        return dict(parse_qsl(raw.decode(request.charset or "utf-8"), keep_blank_values=True))
    return dict(await request.post())


def _raw_form(request: RawRequest) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(request.body)
        except ValueError:
            return {}
        return dict(body) if isinstance(body, dict) else {}
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def _dump(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _json(body: Any, status: int = 200) -> web.Response:
    """``web.json_response`` without its extra layers (the fake answers a lot of these)."""
    return web.Response(body=_dump(body), status=status, content_type="application/json")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


if __name__ == "__main__":
    run_standalone(lambda latency: FakeMastodon(latency_ms=latency), "Loopback Mastodon")
