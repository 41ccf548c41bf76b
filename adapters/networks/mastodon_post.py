"""Posting a Mastodon status over one shared aiohttp session: the blast's hot path.

Mastodon.py costs milliseconds of CPU per call (a fresh requests session and connection,
every response parsed into attribute dicts with dates), which at launch time, with
thousands of posts in the same second, is the bottleneck. This poster sends the one request
the blast needs (``POST /api/v1/statuses`` with an ``Idempotency-Key``) on a pooled,
keep-alive connection and reads only the id and url back. It maps answers exactly as the
Mastodon.py path did, and keeps the same guards against server-side request forgery:
redirects are never followed and, unless private hosts are allowed (tests, local
development), a host that resolves to a non-public address is never connected to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from multidict import CIMultiDictProxy
from yarl import URL

from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.ports import Clock

from .instances import is_public, split_host

log = logging.getLogger(__name__)

DEFAULT_RETRY = timedelta(minutes=5)
STATUSES = "/api/v1/statuses"
DNS_CACHE_SECONDS = 60
NOT_PUBLIC = "instance address is not public"
MAX_ENDPOINTS = 4096


class PrivateAddress(OSError):
    """A host resolved to an address Chorus must not connect to."""


class PublicOnlyResolver(ThreadedResolver):
    """The default resolver, refusing a host if any of its addresses is not public."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        if not found or not all(is_public(str(item["host"])) for item in found):
            raise PrivateAddress(f"{host} resolves to a non-public address")
        return found


@lru_cache(maxsize=1024)
def host_allowed(instance: str) -> bool:
    """False for an IP literal that is not public (names are checked when resolved)."""
    host, _ = split_host(instance)
    try:
        return is_public(host)
    except ValueError:  # a name, not an address
        return True


class StatusPoster:
    """One keep-alive HTTP session per adapter, created on first use on the running loop."""

    def __init__(
        self,
        *,
        clock: Clock,
        timeout: float,
        connections: int,
        allow_private: bool,
        user_agent: str,
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._connections = max(1, connections)
        self._allow_private = allow_private
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._endpoints: dict[str, URL] = {}

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self._connections,
                ttl_dns_cache=DNS_CACHE_SECONDS,
                resolver=None if self._allow_private else PublicOnlyResolver(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),  # one session serves every account
            )
            self._loop = loop
        return self._session

    async def post(
        self, base_url: str, token: str, text: str, idempotency_key: str
    ) -> PostOutcome:
        """Post ``text`` publicly; the same key never makes a second status."""
        body = json.dumps({"status": text, "visibility": "public"}).encode()
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": idempotency_key,
            "Content-Type": "application/json",
        }
        try:
            async with self._http().post(
                self._endpoint(base_url), data=body, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.read()
                return self.outcome(response.status, response.headers, raw)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PrivateAddress):
                return PostOutcome(OutcomeKind.REJECTED, reason=NOT_PUBLIC)
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)

    def _endpoint(self, base_url: str) -> URL:
        """The statuses address of an instance, parsed once (parsing costs per request)."""
        endpoint = self._endpoints.get(base_url)
        if endpoint is None:
            if len(self._endpoints) >= MAX_ENDPOINTS:
                self._endpoints.clear()
            endpoint = self._endpoints[base_url] = URL(base_url + STATUSES)
        return endpoint

    def outcome(self, status: int, headers: CIMultiDictProxy[str], raw: bytes) -> PostOutcome:
        """An HTTP answer in the blast's vocabulary (as Mastodon.py's errors were mapped)."""
        if 200 <= status < 300:
            body = _json(raw)
            if isinstance(body, dict) and body.get("id") is not None:
                return PostOutcome(
                    OutcomeKind.POSTED,
                    remote_id=str(body["id"]),
                    url=str(body.get("url") or body.get("uri") or ""),
                )
            # the status may exist: retrying with the same key is safe, giving up is not
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable response")
        if status < 400:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"redirect {status} refused")
        if status == 429:
            return PostOutcome(
                OutcomeKind.RATE_LIMITED, retry_at=self.retry_at(headers), reason="rate limited"
            )
        if status == 401:
            return PostOutcome(OutcomeKind.REVOKED, reason="unauthorized")
        if status >= 500:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"server error {status}")
        detail = error_detail(raw)
        if status == 403:
            return PostOutcome(OutcomeKind.REVOKED, reason=detail or "forbidden")
        if status == 422:
            return PostOutcome(OutcomeKind.REJECTED, reason=detail or "unprocessable")
        return PostOutcome(OutcomeKind.REJECTED, reason=detail or f"status {status}")

    def retry_at(self, headers: CIMultiDictProxy[str]) -> datetime:
        """``X-RateLimit-Reset`` (ISO moment or epoch seconds) moved onto our clock.

        Measured against the server's ``Date`` when given, so a skewed server clock
        does not matter (as Mastodon.py does); a past or unreadable reset means the
        default wait.
        """
        now = self._clock.now()
        reset = _epoch(headers.get("X-RateLimit-Reset"))
        if reset is None:
            return now + DEFAULT_RETRY
        server_now = _http_date(headers.get("Date"))
        wait = reset - (server_now if server_now is not None else time.time())
        if wait <= 0:
            return now + DEFAULT_RETRY
        return now + timedelta(seconds=wait)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def close_soon(self) -> None:
        """For synchronous callers: close the session on its own loop if that still runs."""
        session, self._session = self._session, None
        loop = self._loop
        if session is None or session.closed or loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(session.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(session.close(), loop)


def error_detail(raw: bytes) -> str:
    """Mastodon's ``{"error": "…"}`` (or a bare JSON string), at most 200 characters."""
    body = _json(raw)
    if isinstance(body, dict):
        body = body.get("error")
    return str(body)[:200] if isinstance(body, str) else ""


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
