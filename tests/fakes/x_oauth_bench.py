"""A small loopback X for the pledge-flow benchmark: OAuth 2.0 with PKCE and ``users/me``.

This is the part of X's wire protocol a pledge needs (the test suite's
``tests/fakes/x_api.py`` is the faithful, complete fake): the authorization screen
(``/i/oauth2/authorize``, approved at once by a new person each time, as when many people
pledge), the token endpoint (``/2/oauth2/token``, checking the code, the redirect URI and
the PKCE verifier as X does), ``/2/oauth2/revoke`` and ``/2/users/me``. It answers through
the bare HTTP/1.1 front of the loopback fakes (``tests/fakes/fast_http.py``), not a web
framework, so the benchmark's CPU goes to the pledge site it measures, not to this fake.
The flow benchmark runs it in its own process (``python -m tests.fakes.x_oauth_bench``
prints its URL).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.fakes.fast_http import FastHttpProtocol, RawRequest
from tests.fakes.x_api import authorize_request_ok

Reply = tuple[int, bytes] | tuple[int, bytes, dict[str, str]]


@dataclass(frozen=True)
class _Code:
    user: int
    challenge: str
    redirect_uri: str


def _json(status: int, body: dict[str, Any]) -> Reply:
    return status, json.dumps(body).encode()


class XOAuth:
    def __init__(self) -> None:
        self._people = itertools.count(1)
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, int] = {}
        self.authorized = 0
        self.exchanged = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._routes = {
            ("GET", "/i/oauth2/authorize"): self.authorize,
            ("POST", "/2/oauth2/token"): self.token,
            ("POST", "/2/oauth2/revoke"): self.revoke,
            ("GET", "/2/users/me"): self.me,
            ("GET", "/_fake/stats"): self.stats,
        }

    async def start(self, port: int = 0) -> str:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: FastHttpProtocol(self.answer, 0.0), "127.0.0.1", port
        )
        bound = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{bound}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def answer(self, request: RawRequest) -> Reply:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return _json(404, {"title": "Not Found Error", "status": 404})
        return route(request)

    def authorize(self, request: RawRequest) -> Reply:
        q = dict(parse_qsl(request.query))
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if not authorize_request_ok(q):
            return _json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self._codes[code] = _Code(next(self._people), q["code_challenge"], redirect_uri)
        self.authorized += 1
        location = f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"
        return 302, b"", {"Location": location}

    def token(self, request: RawRequest) -> Reply:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        code = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if (
            code is None
            or code.redirect_uri != form.get("redirect_uri")
            or _s256(verifier) != code.challenge
        ):
            return _json(400, {"error": "invalid_request", "error_description": "bad code"})
        access = secrets.token_urlsafe(24)
        self._tokens[access] = code.user
        self.exchanged += 1
        return _json(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "refresh_token": secrets.token_urlsafe(24),
                "scope": "tweet.read users.read offline.access",
            },
        )

    def revoke(self, request: RawRequest) -> Reply:
        form = dict(parse_qsl(request.body.decode()))
        self._tokens.pop(form.get("token", ""), None)
        return _json(200, {"revoked": True})

    def me(self, request: RawRequest) -> Reply:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        user = self._tokens.get(bearer)
        if user is None:
            return _json(401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
        return _json(
            200,
            {
                "data": {
                    "id": str(10_000 + user),
                    "name": f"Pledger {user}",
                    "username": f"pledger{user}",
                    "public_metrics": {"followers_count": 10, "following_count": 1},
                }
            },
        )

    def stats(self, request: RawRequest) -> Reply:
        return _json(200, {"authorized": self.authorized, "exchanged": self.exchanged})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def serve() -> None:
        fake = XOAuth()
        print(json.dumps({"url": await fake.start(args.port)}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
