"""The one HTTP path to hosts a supporter named: deadline, size cap, no redirect, pinned address.

Whoever runs a Mastodon instance may be hostile, and the supporter chooses the instance. So
every request Chorus sends to one goes through ``GuardedHttp``, which:

- gives the whole request one total deadline (connect, send, and the full answer): a server
  that drips its body a byte a second hits it instead of pinning a worker;
- reads at most ``max_body`` bytes of answer, in chunks, and stops past that;
- never follows a redirect (one could point inwards);
- connects only to addresses that passed the address check. The connector's resolver
  (``PinnedResolver``) looks the name up once, refuses the host if ANY answer is not allowed,
  and hands the connector exactly the checked addresses; TLS SNI and ``Host`` stay the name.
  There is no second lookup a rebinding DNS server could answer differently. IP literals,
  which aiohttp never hands to a resolver, are checked before the request.

The lookup and the address rule are injectable so tests can play a rebinding DNS server
against a loopback fake.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import is_ip_address
from multidict import CIMultiDictProxy
from yarl import URL

Lookup = Callable[[str, int], Awaitable[list[str]]]
AddressRule = Callable[[str], bool]

MAX_JSON = 1024 * 1024
DNS_CACHE_SECONDS = 60
MAX_LITERALS = 4096


class PrivateAddress(OSError):
    """A host is, or resolves to, an address Chorus must not connect to."""


class BodyTooLarge(aiohttp.ClientError):
    """The answer was longer than the cap; the rest was never read."""


async def system_lookup(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (on the loop's executor)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def allow_any(address: str) -> bool:
    """The address rule for tests and local development (MASTODON_ALLOW_PRIVATE_HOSTS)."""
    return True


class PinnedResolver(AbstractResolver):
    """One lookup per name; every answer checked; the connector gets only those addresses."""

    def __init__(self, lookup: Lookup, allowed: AddressRule) -> None:
        self._lookup = lookup
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._lookup(host, port)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        if not all(self._allowed(address) for address in addresses):
            raise PrivateAddress(f"{host} resolves to an address that is not allowed")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read within the deadline and the size cap."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class GuardedHttp:
    """One keep-alive session with the guards above, created on first use on the running loop."""

    def __init__(
        self,
        *,
        deadline: float,
        connections: int,
        user_agent: str,
        allowed: AddressRule,
        lookup: Lookup = system_lookup,
        max_body: int = MAX_JSON,
    ) -> None:
        self._deadline = deadline
        self._connections = max(1, connections)
        self._user_agent = user_agent
        self._allowed = allowed
        self._lookup = lookup
        self.max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._literals: dict[str, bool] = {}

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self._connections,
                ttl_dns_cache=DNS_CACHE_SECONDS,
                resolver=PinnedResolver(self._lookup, self._allowed),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._deadline),
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),  # one session serves every account
                trust_env=False,  # no proxy from the environment: the address is ours to pin
            )
            self._loop = loop
        return self._session

    def literal_allowed(self, host: str) -> bool:
        """False for an IP literal the rule refuses (names are checked when resolved)."""
        known = self._literals.get(host)
        if known is None:
            if len(self._literals) >= MAX_LITERALS:
                self._literals.clear()
            address = host.strip("[]")
            known = self._literals[host] = not is_ip_address(address) or self._allowed(address)
        return known

    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its answer within the deadline and the cap.

        Raises ``PrivateAddress`` (the host is not allowed), ``BodyTooLarge``,
        ``TimeoutError`` (the deadline passed) or another ``aiohttp.ClientError``/``OSError``.
        """
        if not self.literal_allowed(url.raw_host or ""):
            raise PrivateAddress(f"{url.raw_host} is not an allowed address")
        try:
            async with self._http().request(
                method, url, headers=headers, data=data, params=params, allow_redirects=False
            ) as response:
                body = await read_capped(response, self.max_body)
                return Answer(response.status, response.headers, body)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PrivateAddress):
                raise exc.os_error from None
            raise

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


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` as soon as it is known to pass ``cap`` bytes."""
    declared = response.content_length
    if declared is not None and declared > cap:
        raise BodyTooLarge(f"answer of {declared} bytes is over the {cap} byte cap")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"answer is over the {cap} byte cap")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
