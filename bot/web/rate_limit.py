"""Rate limits on the pledge site's routes, per client address and per link token.

A flood from one address, or on one link from many addresses, gets ``429 Too Many
Requests`` with ``Retry-After`` and a readable page in the visitor's language, while
other visitors and other links carry on. Each key has a token bucket (``limit`` requests
at once, refilled at ``limit`` a minute). Memory is bounded: a bucket refilled to full is
the same as none and is dropped, and past ``max_keys`` the least recently used goes.
The client address is ``request.remote``, or the last ``X-Forwarded-For`` hop when the
settings say a trusted reverse proxy adds it (never trusted otherwise: anyone can send
that header). IPv6 addresses count per /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment

from bot.ports import Clock
from bot.settings import Settings
from bot.web.rendering import Page

log = logging.getLogger(__name__)

PERIOD_SECONDS = 60.0
UNKNOWN_CLIENT = "unknown"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenBuckets:
    """``limit`` requests at once per key, refilled at ``limit`` per ``period`` seconds."""

    def __init__(self, limit: int, period: float, max_keys: int) -> None:
        self.capacity = float(limit)
        self.rate = limit / period  # requests regained per second
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # (level, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.capacity
        level, at = found
        return min(self.capacity, level + max(0.0, now - at) * self.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may make a request; 0 when it may now."""
        level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str, now: float) -> None:
        """Count one request of ``key`` (after ``wait`` said 0)."""
        self._buckets[key] = (self._level(key, now) - 1, now)
        self._buckets.move_to_end(key)
        self._evict(now)

    def _evict(self, now: float) -> None:
        # The front holds the least recently used keys: drop those refilled to full, and
        # any past the cap (never the key just taken, which sits at the end).
        while self._buckets:
            key, (level, at) = next(iter(self._buckets.items()))
            full = level + max(0.0, now - at) * self.rate >= self.capacity
            if not full and len(self._buckets) <= self.max_keys:
                return
            del self._buckets[key]


def client_address(remote: str | None, forwarded: Iterable[str], *, trust_proxy: bool) -> str:
    """The key a client is counted under (see the module docstring)."""
    candidate = remote
    if trust_proxy:
        hops = [hop.strip() for header in forwarded for hop in header.split(",")]
        hops = [hop for hop in hops if hop]
        if hops:
            candidate = hops[-1]
    return _address_key(candidate or "")


@lru_cache(maxsize=4096)
def _address_key(candidate: str) -> str:
    """``candidate``'s key; remembered, since the same few clients (or the one proxy)
    come back request after request and parsing an address is not free."""
    try:
        address = ipaddress.ip_address(candidate.strip("[]"))
    except ValueError:
        return UNKNOWN_CLIENT
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def link_key(token: str) -> str:
    """A fixed-size key for a link token (tokens are secrets and may be any length)."""
    return hashlib.blake2b(token.encode(), digest_size=16).hexdigest()


class RateLimits:
    """The limits of one pledge site; ``guard`` wraps each limited route's handler."""

    def __init__(self, settings: Settings, clock: Clock, env: Environment) -> None:
        self.by_address = TokenBuckets(
            settings.web_rate_per_address, PERIOD_SECONDS, settings.web_rate_max_keys
        )
        self.by_link = TokenBuckets(
            settings.web_rate_per_link, PERIOD_SECONDS, settings.web_rate_max_keys
        )
        self.trust_proxy = settings.web_trusted_proxy
        self.default_language = settings.default_language
        self.tz: ZoneInfo = settings.timezone
        self.clock = clock
        self.env = env

    def admit(self, address: str, link: str | None, now: float) -> float:
        """Count the request and return 0, or return the seconds to wait (nothing counted)."""
        wait = self.by_address.wait(address, now)
        if link is not None:
            wait = max(wait, self.by_link.wait(link, now))
        if wait > 0:
            return wait
        self.by_address.take(address, now)
        if link is not None:
            self.by_link.take(link, now)
        return 0.0

    def guard(self, handler: Handler) -> Handler:
        """``handler``, answering 429 instead once its client or its link is over the limit."""

        async def limited(request: web.Request) -> web.StreamResponse:
            address = client_address(
                request.remote,
                request.headers.getall("X-Forwarded-For", []),
                trust_proxy=self.trust_proxy,
            )
            token = request.match_info.get("token")
            link = link_key(token) if token else None
            wait = self.admit(address, link, self.clock.now().timestamp())
            if wait > 0:
                return self.refusal(request, wait)
            return await handler(request)

        return limited

    def refusal(self, request: web.Request, wait: float) -> web.Response:
        seconds = max(1, math.ceil(wait))
        log.debug("rate limit: %s %s refused for %ss", request.method, _route(request), seconds)
        page = Page(self.env, request, self.default_language, self.tz)
        response = page.response("busy.html", status=429, seconds=seconds)
        response.headers["Retry-After"] = str(seconds)
        return response


def _route(request: web.Request) -> str:
    """The route's pattern (``/pledge/{token}``): never the token itself in a log line."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "?"
