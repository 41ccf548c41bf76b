"""A bare HTTP/1.1 front for a loopback fake in benchmark mode, so it costs next to nothing.

The blast benchmark compares Chorus with a bare aiohttp client against the same fake;
both should measure the network and the client, not the fake's web framework. This
speaks just enough HTTP/1.1 for that: keep-alive connections, requests with a
``Content-Length`` body (or none), answers in order, each after the fake's latency (one
timer, not a task). A fake supplies one function from a parsed request to a status and a
JSON body (and, for a redirect, extra headers such as ``Location``); anything this front
does not understand closes the connection with a 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024


@dataclass(slots=True)
class RawRequest:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes
    query: str = ""  # the raw query string, without the "?"


Answer = Callable[[RawRequest], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]
_REASONS = {status.value: status.phrase for status in HTTPStatus}


def response_bytes(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class FastHttpProtocol(asyncio.Protocol):
    """One connection: parse requests as they arrive, answer each after ``latency`` s."""

    def __init__(self, answer: Answer, latency: float) -> None:
        self._answer = answer
        self._latency = latency
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    self._refuse()
                return
            request = self._parse(bytes(self._buffer[:end]))
            if request is None:
                return
            length = int(request.headers.get("content-length", "0") or 0)
            if length > MAX_BODY or "transfer-encoding" in request.headers:
                self._refuse()
                return
            start = end + 4
            if len(self._buffer) < start + length:
                return  # the rest of the body is still on its way
            request.body = bytes(self._buffer[start : start + length])
            del self._buffer[: start + length]
            answer = response_bytes(*self._answer(request))
            if self._latency:
                self._loop.call_later(self._latency, self._send, answer)
            else:
                self._send(answer)

    def _parse(self, head: bytes) -> RawRequest | None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._refuse()
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path, _, query = parts[1].partition("?")
        return RawRequest(parts[0], path, headers, b"", query)

    def _send(self, answer: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(answer)

    def _refuse(self) -> None:
        self._send(response_bytes(400, b'{"error":"bad request"}'))
        if self._transport is not None:
            self._transport.close()
        self._buffer.clear()
