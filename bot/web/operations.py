"""The routes an operator's tooling calls: ``/readyz`` (may this process take traffic?) and
``/metrics`` (Prometheus), and the middleware counting every request by route and status.

``/healthz`` (alive while the event loop answers) stays on the pledge site itself. Nothing
here shows a secret: readiness names the failing check and the exception's type, never
its text (a driver's message can carry the database address or user).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.domain.operations import PledgeCounts
from bot.metrics import CONTENT_TYPE, UNMATCHED_ROUTE, Metrics
from bot.ports import Repository
from bot.role import RoleState
from bot.settings import Settings

log = logging.getLogger(__name__)

# the pledge counts are read at most this often, however often /metrics is asked for (a
# scrape every 15 s is usual; a flood of requests must not become a flood of COUNT queries)
COUNTS_FRESH_SECONDS = 5.0


class Operations:
    """Readiness and metrics of one process, over its repository, metrics and role."""

    def __init__(
        self, settings: Settings, repo: Repository, metrics: Metrics, role: RoleState
    ) -> None:
        self._repo = repo
        self._metrics = metrics
        self._role = role
        self._timeout = settings.readiness_timeout_seconds
        token = settings.metrics_token
        self._token = token.get_secret_value().encode() if token is not None else None
        self._counting = asyncio.Lock()
        self._counted_at: float | None = None  # loop time of the last read

    def install(self, app: web.Application) -> None:
        """Add the routes; the request counter goes first so it sees every final status."""
        app.middlewares.insert(0, self.count_requests)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def readyz(self, request: web.Request) -> web.Response:
        """200 when the database answers in time at the schema this code expects and the
        process is not stopping; else 503. Both say why, in JSON, with the role."""
        reasons: list[str] = []
        schema: dict[str, int] | None = None
        if self._role.draining:
            reasons.append("shutting down")
        try:
            async with asyncio.timeout(self._timeout):
                status = await self._repo.schema_status()
        except TimeoutError:
            reasons.append(f"database did not answer within {self._timeout:g} s")
        except Exception as exc:  # down, refused, closed: the type says which, safely
            reasons.append(f"database unreachable ({type(exc).__name__})")
        else:
            schema = {"applied": status.applied, "known": status.known}
            if not status.current:
                reasons.append(
                    f"migrations not applied: the database is at {status.applied}, "
                    f"this code expects {status.known} (run chorus migrate)"
                )
        body = {
            "ready": not reasons,
            "role": self._role.current.value,
            "schema": schema,
            "reasons": reasons,
        }
        return web.json_response(body, status=503 if reasons else 200)

    async def metrics(self, request: web.Request) -> web.Response:
        """The Prometheus exposition; with METRICS_TOKEN set, only for its bearer."""
        if self._token is not None and not self._authorised(request):
            return web.Response(
                status=401,
                text="401: send Authorization: Bearer <METRICS_TOKEN>\n",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        counts = await self._fresh_counts()
        self._metrics.observe_state(counts, leader=self._role.is_leader)
        response = web.Response(body=self._metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    async def _fresh_counts(self) -> PledgeCounts | None:
        """The pledge counts, read once per COUNTS_FRESH_SECONDS at most (None: keep the
        figures the gauges already show)."""
        loop = asyncio.get_running_loop()
        async with self._counting:  # concurrent scrapes share one read
            if self._counted_at is not None and (
                loop.time() - self._counted_at < COUNTS_FRESH_SECONDS
            ):
                return None
            try:
                async with asyncio.timeout(self._timeout):
                    counts = await self._repo.pledge_counts()
            except Exception as exc:  # the gauges keep their last figures; the rest is served
                log.warning("metrics: pledge counts unavailable (%s)", type(exc).__name__)
                return None
            self._counted_at = loop.time()
            return counts

    def _authorised(self, request: web.Request) -> bool:
        assert self._token is not None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self._token)

    @web.middleware
    async def count_requests(self, request: web.Request, handler: Any) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else UNMATCHED_ROUTE
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            self._metrics.request(route, exc.status)
            raise
        except BaseException:
            self._metrics.request(route, 500)
            raise
        self._metrics.request(route, response.status)
        return response
