"""Posting a Mastodon status over the guarded HTTP path: the blast's hot path.

At launch time thousands of posts go out in the same second, so this poster sends the one
request the blast needs (``POST /api/v1/statuses`` with an ``Idempotency-Key``) on the
pooled, keep-alive session of a ``GuardedHttp`` (total deadline, answer size cap, no
redirect, pinned checked addresses) and reads only the id and url back. It also maps every
HTTP answer to the blast's vocabulary; the read-back and the other calls to an instance
reuse that mapping.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.ports import Clock

from .guarded_http import BodyTooLarge, GuardedHttp, PrivateAddress

log = logging.getLogger(__name__)

DEFAULT_RETRY = timedelta(minutes=5)
STATUSES = "/api/v1/statuses"
NOT_PUBLIC = "instance address is not public"
DEADLINE_PASSED = "deadline passed"
TOO_LARGE = "answer too large"
MAX_ENDPOINTS = 4096


def failure_outcome(exc: BaseException) -> PostOutcome:
    """What a failed guarded request means for the blast (the status may exist: retry)."""
    if isinstance(exc, PrivateAddress):
        return PostOutcome(OutcomeKind.REJECTED, reason=NOT_PUBLIC)
    if isinstance(exc, TimeoutError):
        return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=DEADLINE_PASSED)
    if isinstance(exc, BodyTooLarge):
        return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=TOO_LARGE)
    return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)


class StatusPoster:
    """Posts statuses through one ``GuardedHttp`` and reads HTTP answers as outcomes."""

    def __init__(self, *, clock: Clock, http: GuardedHttp) -> None:
        self._clock = clock
        self._http = http
        self._endpoints: dict[str, URL] = {}

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
            answer = await self._http.request(
                "POST", self._endpoint(base_url), data=body, headers=headers
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return failure_outcome(exc)
        return self.outcome(answer.status, answer.headers, answer.body)

    def _endpoint(self, base_url: str) -> URL:
        """The statuses address of an instance, parsed once (parsing costs per request)."""
        endpoint = self._endpoints.get(base_url)
        if endpoint is None:
            if len(self._endpoints) >= MAX_ENDPOINTS:
                self._endpoints.clear()
            endpoint = self._endpoints[base_url] = URL(base_url + STATUSES)
        return endpoint

    def outcome(self, status: int, headers: CIMultiDictProxy[str], raw: bytes) -> PostOutcome:
        """An HTTP answer in the blast's vocabulary."""
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
        does not matter; a past or unreadable reset means the default wait.
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
