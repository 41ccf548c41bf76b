"""A lean browser for the pledge-flow benchmark: keep-alive HTTP/1.1, cookies, redirects.

The flow benchmark measures the pledge site; the 32 browsers that drive it share the same
two cores. aiohttp's client, with its cookie jar and redirect machinery, cost about 2.5 ms
of CPU per pledge (four requests), as much as a quarter of what the site spends; this
speaks just the HTTP/1.1 a pledge needs over one kept-alive connection per origin: GET and
form POST, ``Content-Length`` or chunked bodies, ``Set-Cookie`` kept as name=value per
host (no paths, expiry or flags: the site's cookies are per-pledge and short-lived), and
303/302/301 followed with a GET, as a browser does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

MAX_REDIRECTS = 5


@dataclass
class Page:
    status: int
    url: str
    body: bytes
    history: list[int] = field(default_factory=list)  # the redirects' statuses

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, head: bytes, body: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        parts = status_line.split(b" ", 2)
        if len(parts) < 2:
            raise ConnectionError("the server closed the connection")
        status = int(parts[1])
        headers: dict[str, list[str]] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "chunked" in headers.get("transfer-encoding", [""])[0].lower():
            content = bytearray()
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                content += await self.reader.readexactly(size)
                await self.reader.readline()
            await self.reader.readline()
            return status, headers, bytes(content)
        length = int(headers.get("content-length", ["0"])[0])
        return status, headers, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Browser:
    """One person's browser: its own connections and cookies."""

    def __init__(self) -> None:
        self._connections: dict[str, _Connection] = {}
        self.cookies: dict[str, dict[str, str]] = {}  # host:port → name → value

    def clear_cookies(self) -> None:
        self.cookies.clear()

    async def get(self, url: str) -> Page:
        return await self._follow("GET", url, b"")

    async def post_form(self, url: str, form: dict[str, str]) -> Page:
        return await self._follow("POST", url, urlencode(form).encode())

    async def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    async def _follow(self, method: str, url: str, body: bytes) -> Page:
        history: list[int] = []
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, content = await self._request(method, url, body)
            location = headers.get("location", [""])[0]
            if status not in (301, 302, 303) or not location:
                return Page(status, url, content, history)
            history.append(status)
            url = location if "://" in location else _origin(url) + location
            method, body = "GET", b""
        raise ConnectionError(f"more than {MAX_REDIRECTS} redirects")

    async def _request(
        self, method: str, url: str, body: bytes
    ) -> tuple[int, dict[str, list[str]], bytes]:
        parts = urlsplit(url)
        host = parts.netloc
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        if jar := self.cookies.get(host):
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        if method == "POST":
            lines.append("Content-Type: application/x-www-form-urlencoded")
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more
            connection = await self._connection(parts.hostname or "", parts.port or 80, host)
            try:
                status, headers, content = await connection.exchange(head, body)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                self._connections.pop(host, None)
                connection.close()
                if attempt == 2:
                    raise
        for cookie in headers.get("set-cookie", []):
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            jar = self.cookies.setdefault(host, {})
            if value and "max-age=0" not in cookie.lower():
                jar[name.strip()] = value.strip()
            else:
                jar.pop(name.strip(), None)
        if "close" in headers.get("connection", [""])[0].lower():
            self._connections.pop(host, None)
            connection.close()
        return status, headers, content

    async def _connection(self, hostname: str, port: int, host: str) -> _Connection:
        connection = self._connections.get(host)
        if connection is None:
            reader, writer = await asyncio.open_connection(hostname, port)
            connection = self._connections[host] = _Connection(reader, writer)
        return connection


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
