"""A loopback X API: OAuth 2.0 with PKCE, users/me, tweets and timelines.

It checks what X checks (the S256 verifier, single-use codes, rotating refresh
tokens, duplicate tweets) so the adapter's real code paths run. Standalone:
``python -m tests.fakes.x_api --port 8081 --latency-ms 100 --accounts 1000``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.loopback import Failure, LoopbackFake, run_standalone

TOKEN_LIFETIME = 7200


@dataclass
class XUser:
    id: str
    username: str
    followers: int = 10
    suspended: bool = False
    tweets: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Code:
    user_id: str
    challenge: str
    redirect_uri: str
    scope: str


class FakeX(LoopbackFake):
    """Fake X. ``next_user`` says who approves the next authorisation."""

    name = "x"

    def __init__(self, *, latency_ms: float = 0, now: Any = None) -> None:
        self.users: dict[str, XUser] = {}
        self.access_tokens: dict[str, str] = {}  # token -> user id
        self.refresh_tokens: dict[str, str] = {}
        self.revoked: list[str] = []
        self.handed_out: list[str] = []  # every token and code ever issued, for leak checks
        self.codes: dict[str, _Code] = {}
        self.deny_next = False
        self.next_user: str | None = None
        self.client_secret: str | None = None  # when set, the token endpoint checks it
        self._ids = itertools.count(1000)
        self._tweet_ids = itertools.count(1_800_000_000_000_000_000)
        self.posts = Counter[str]()
        super().__init__(latency_ms=latency_ms, now=now)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/i/oauth2/authorize", self.authorize)
        router.add_post("/2/oauth2/token", self.token)
        router.add_post("/2/oauth2/revoke", self.revoke)
        router.add_get("/2/users/me", self.me)
        router.add_post("/2/tweets", self.create_tweet)
        router.add_get("/2/users/{id}/tweets", self.user_tweets)

    # ---- test helpers ----------------------------------------------------------------

    def add_user(self, username: str, followers: int = 10) -> XUser:
        user = XUser(str(next(self._ids)), username, followers)
        self.users[user.id] = user
        return user

    def issue_tokens(self, user_id: str) -> tuple[str, str]:
        access = f"x-access-{secrets.token_hex(8)}"
        refresh = f"x-refresh-{secrets.token_hex(8)}"
        self.access_tokens[access] = user_id
        self.refresh_tokens[refresh] = user_id
        if self.record_requests:  # benchmarks make 100,000 of them
            self.handed_out += (access, refresh)
        return access, refresh

    def expire(self, access_token: str) -> None:
        """Make an access token stop working (as after its two hours)."""
        self.access_tokens.pop(access_token, None)

    def create_accounts(self, count: int) -> list[dict[str, str]]:
        made = []
        for _ in range(count):
            user = self.add_user(f"user{len(self.users) + 1}")
            access, refresh = self.issue_tokens(user.id)
            made.append(
                {
                    "id": user.id,
                    "username": user.username,
                    "access_token": access,
                    "refresh_token": refresh,
                }
            )
        return made

    def stats(self) -> dict[str, Any]:
        return {"posts_per_account": dict(self.posts), "posts": sum(self.posts.values())}

    def account_of(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.access_tokens.get(auth.removeprefix("Bearer "))
        return None

    def failure_body(self, failure: Failure) -> dict[str, Any]:
        if failure.body is not None:
            return failure.body
        titles = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}
        title = titles.get(failure.status, "Error")
        return {"title": title, "detail": title, "type": "about:blank", "status": failure.status}

    # ---- OAuth -----------------------------------------------------------------------

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if not authorize_request_ok(q):
            return web.json_response({"error": "invalid_request"}, status=400)
        if self.deny_next:
            self.deny_next = False
            target = f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}"
            raise web.HTTPFound(target)
        username = self.next_user or "alice"
        user = next((u for u in self.users.values() if u.username == username), None)
        user = user or self.add_user(username, followers=42)
        code = secrets.token_urlsafe(16)
        self.handed_out.append(code)
        self.codes[code] = _Code(user.id, q["code_challenge"], redirect_uri, q.get("scope", ""))
        raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.client_secret is not None:
            pair = f"{self._basic_user(request)}:{self.client_secret}"
            expected = base64.b64encode(pair.encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return web.json_response({"error": "unauthorized_client"}, status=401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(str(form.get("code", "")), None)
            verifier = str(form.get("code_verifier", ""))
            if (
                code is None
                or code.redirect_uri != form.get("redirect_uri")
                or _s256(verifier) != code.challenge
            ):
                return web.json_response(
                    {"error": "invalid_request", "error_description": "bad code or verifier"},
                    status=400,
                )
            return self._tokens_for(code.user_id, code.scope)
        if grant == "refresh_token":
            user_id = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)
            if user_id is None:
                return web.json_response({"error": "invalid_request"}, status=400)
            for token, owner in list(self.access_tokens.items()):
                if owner == user_id:
                    del self.access_tokens[token]
            return self._tokens_for(user_id, "tweet.read users.read offline.access")
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    def _basic_user(self, request: web.Request) -> str:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return ""
        return base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")[0]

    def _tokens_for(self, user_id: str, scope: str) -> web.Response:
        access, refresh = self.issue_tokens(user_id)
        return web.json_response(
            {
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "access_token": access,
                "refresh_token": refresh,
                "scope": scope,
            }
        )

    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", ""))
        self.access_tokens.pop(token, None)
        self.refresh_tokens.pop(token, None)
        self.revoked.append(token)
        return web.json_response({"revoked": True})

    # ---- API -------------------------------------------------------------------------

    def _user(self, request: web.Request) -> XUser:
        user_id = self.account_of(request)
        if user_id is None:
            raise web.HTTPUnauthorized(
                text='{"title":"Unauthorized","detail":"Unauthorized","status":401}',
                content_type="application/json",
            )
        return self.users[user_id]

    async def me(self, request: web.Request) -> web.Response:
        user = self._user(request)
        data: dict[str, Any] = {"id": user.id, "name": user.username, "username": user.username}
        if "public_metrics" in request.query.get("user.fields", ""):
            data["public_metrics"] = {"followers_count": user.followers, "following_count": 1}
        return web.json_response({"data": data})

    async def create_tweet(self, request: web.Request) -> web.Response:
        user = self._user(request)
        text = str((await request.json()).get("text", ""))
        if user.suspended:
            return web.json_response(
                {"errors": [{"code": 64, "message": "Your account is suspended"}]}, status=403
            )
        if any(t["text"] == text for t in user.tweets):
            return web.json_response(
                {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
                status=403,
            )
        tweet = {
            "id": str(next(self._tweet_ids)),
            "text": text,
            "created_at": self.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        user.tweets.append(tweet)
        self.posts[user.id] += 1
        return web.json_response(
            {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}},
            status=201,
        )

    async def user_tweets(self, request: web.Request) -> web.Response:
        self._user(request)
        user = self.users.get(request.match_info["id"])
        if user is None:
            return web.json_response({"errors": [{"message": "Not Found"}]}, status=404)
        start = request.query.get("start_time")
        since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        tweets = [
            t
            for t in reversed(user.tweets)
            if since is None
            or datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= since
        ]
        return web.json_response({"data": tweets, "meta": {"result_count": len(tweets)}})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


if __name__ == "__main__":
    run_standalone(lambda latency: FakeX(latency_ms=latency), "Loopback X API")


def authorize_request_ok(q: Mapping[str, str]) -> bool:
    """Whether an authorization request carries what X requires (a code, with PKCE S256)."""
    return (
        q.get("response_type") == "code"
        and bool(q.get("client_id"))
        and q.get("code_challenge_method") == "S256"
        and bool(q.get("code_challenge"))
        and bool(q.get("redirect_uri"))
    )
