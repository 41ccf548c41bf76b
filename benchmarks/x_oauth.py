"""A small loopback X for the pledge-flow benchmark: OAuth 2.0 with PKCE and ``users/me``.

Benchmarks import nothing from ``tests``; this is the part of X's wire protocol a pledge
needs (the test suite's ``tests/fakes/x_api.py`` is the faithful, complete fake): the
authorization screen (``/i/oauth2/authorize``, approved at once by a new person each
time, as when many people pledge), the token endpoint (``/2/oauth2/token``, checking the
code, the redirect URI and the PKCE verifier as X does), ``/2/oauth2/revoke`` and
``/2/users/me``. Run it in its own process: ``python -m benchmarks.x_oauth`` prints its URL.
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
from urllib.parse import urlencode

from aiohttp import web


@dataclass(frozen=True)
class _Code:
    user: int
    challenge: str
    redirect_uri: str


class XOAuth:
    def __init__(self) -> None:
        self._people = itertools.count(1)
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, int] = {}
        self.authorized = 0
        self.exchanged = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/i/oauth2/authorize", self.authorize)
        app.router.add_post("/2/oauth2/token", self.token)
        app.router.add_post("/2/oauth2/revoke", self.revoke)
        app.router.add_get("/2/users/me", self.me)
        app.router.add_get("/_fake/stats", self.stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if (
            q.get("response_type") != "code"
            or not q.get("client_id")
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not redirect_uri
        ):
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = _Code(next(self._people), q["code_challenge"], redirect_uri)
        self.authorized += 1
        raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        code = self._codes.pop(str(form.get("code", "")), None)
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
        access = secrets.token_urlsafe(24)
        self._tokens[access] = code.user
        self.exchanged += 1
        return web.json_response(
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "refresh_token": secrets.token_urlsafe(24),
                "scope": "tweet.read users.read offline.access",
            }
        )

    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        self._tokens.pop(str(form.get("token", "")), None)
        return web.json_response({"revoked": True})

    async def me(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self._tokens.get(bearer)
        if user is None:
            return web.json_response(
                {"title": "Unauthorized", "detail": "Unauthorized", "status": 401}, status=401
            )
        return web.json_response(
            {
                "data": {
                    "id": str(10_000 + user),
                    "name": f"Pledger {user}",
                    "username": f"pledger{user}",
                    "public_metrics": {"followers_count": 10, "following_count": 1},
                }
            }
        )

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"authorized": self.authorized, "exchanged": self.exchanged})


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
