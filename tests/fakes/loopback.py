"""The shared machinery of the loopback network fakes (X, Mastodon).

Each fake is a real aiohttp server on 127.0.0.1 that speaks the network's wire
protocol, so the real client libraries run against it. This base records every
request, injects failures on demand (per account or for everyone, a number of times),
adds optional latency, exposes counters at ``GET /_fake/stats``, and can run
standalone for benchmarks (``python -m tests.fakes.mastodon_api --port N``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.fast_http import FastHttpProtocol, RawRequest

Handler = Callable[[web.Request], Any]


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    account: str | None = None
    peer: str | None = None  # the client's address and port: one per connection


@dataclass
class Failure:
    """An answer to give instead of the real one, ``times`` times."""

    status: int
    times: int = 1
    account: str | None = None
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def matches(self, method: str, path: str, account: str | None) -> bool:
        return (
            (self.account is None or self.account == account)
            and (self.method is None or self.method == method)
            and (self.path is None or path.startswith(self.path))
        )


class LoopbackFake:
    """Base class: subclasses add routes and say which account a request acts as."""

    name = "fake"

    def __init__(
        self, *, latency_ms: float = 0, now: Callable[[], datetime] | None = None
    ) -> None:
        self.latency_ms = latency_ms
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.requests: list[Recorded] = []
        self.record_requests = True
        self.request_count = 0
        self._failures: list[Failure] = []
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self.port = 0
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get("/_fake/stats", self._stats_handler)
        self.app.router.add_post("/_fake/accounts", self._accounts_handler)
        self.add_routes(self.app.router)

    # ---- to override ---------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    def account_of(self, request: web.Request) -> str | None:
        """The account id the request's bearer token belongs to, if any."""
        return None

    def stats(self) -> dict[str, Any]:
        return {}

    def create_accounts(self, count: int) -> list[dict[str, str]]:
        raise NotImplementedError

    def answer_fast(self, request: RawRequest) -> tuple[int, bytes]:
        """The benchmark-mode answer (see ``start_fast``); fakes that have one override it."""
        raise NotImplementedError

    # ---- lifecycle -----------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> LoopbackFake:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def start_fast(self, port: int = 0, host: str = "127.0.0.1") -> LoopbackFake:
        """Serve ``answer_fast`` (and the stats) on a bare HTTP/1.1 front: benchmarks only.

        No recording, no failure injection, no other route: the cheapest a request can be.
        """
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: FastHttpProtocol(self._answer_raw, self.latency_ms / 1000), host, port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _answer_raw(self, request: RawRequest) -> tuple[int, bytes]:
        if request.path == "/_fake/stats":
            return 200, json.dumps({"requests": self.request_count, **self.stats()}).encode()
        self.request_count += 1
        return self.answer_fast(request)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> LoopbackFake:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    # ---- failure injection -----------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        account: str | None = None,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead."""
        self._failures.append(
            Failure(status, times, account, method, path, dict(headers or {}), body)
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def _take_failure(self, method: str, path: str, account: str | None) -> Failure | None:
        for failure in self._failures:
            if failure.matches(method, path, account):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def failure_body(self, failure: Failure) -> dict[str, Any]:
        return failure.body or {"error": f"injected failure {failure.status}"}

    def seen(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # ---- plumbing --------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_fake/"):
            return await handler(request)  # type: ignore[no-any-return]
        self.request_count += 1
        if not self.record_requests and not self._failures:  # benchmark mode: the bare minimum
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            return await handler(request)  # type: ignore[no-any-return]
        account = self.account_of(request)
        if self.record_requests:
            body = (await request.read()).decode("utf-8", "replace")
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.requests.append(
                Recorded(
                    request.method,
                    request.path,
                    dict(request.query),
                    dict(request.headers),
                    body,
                    account,
                    None if peer is None else str(peer),
                )
            )
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        failure = self._take_failure(request.method, request.path, account)
        if failure is not None:
            return web.json_response(
                self.failure_body(failure), status=failure.status, headers=failure.headers
            )
        return await handler(request)  # type: ignore[no-any-return]

    async def _stats_handler(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.request_count, **self.stats()})

    async def _accounts_handler(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", "1"))
        return web.json_response({"accounts": self.create_accounts(count)})


def reset_in(seconds: int) -> str:
    """An ``x-rate-limit-reset`` value: the epoch second ``seconds`` from now."""
    return str(int(time.time()) + seconds)


def run_standalone(factory: Callable[[float], LoopbackFake], description: str) -> None:
    """``python -m tests.fakes.<name> --port N --latency-ms 100 --accounts 1000``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--accounts", type=int, default=0, help="pre-create this many")
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="benchmark mode: no request log; the bare HTTP front if the fake has one",
    )
    args = parser.parse_args()

    async def main() -> None:
        fake = factory(args.latency_ms)
        fake.record_requests = not args.no_record
        if args.no_record and type(fake).answer_fast is not LoopbackFake.answer_fast:
            await fake.start_fast(args.port)  # benchmark mode: a bare HTTP front
        else:
            await fake.start(args.port)
        accounts = fake.create_accounts(args.accounts) if args.accounts else []
        gc.collect()
        gc.freeze()  # the accounts live as long as the process: no collection rescans them
        print(json.dumps({"url": fake.url, "accounts": accounts}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
