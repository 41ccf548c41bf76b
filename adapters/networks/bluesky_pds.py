"""The concrete ``PdsClient``: DPoP-bound ``createRecord`` on a supporter's PDS.

Each call signs a fresh DPoP proof with the grant's key (bound to the access token by
``ath``), follows the PDS's nonces, refreshes the tokens shortly before they lapse (and once
when the PDS says they have). Refreshing is ``BlueskyOAuth.refresh_grant``'s, shared with
the blast's own refresh: AT Protocol refresh tokens are single-use, so it refreshes a grant
once whoever asks, stores the new tokens at once, and remembers them for callers still
holding the old ones. Failures come back as the typed failures of ``atproto_pds``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.domain.account import SocialAccount, TokenSet
from bot.domain.outcomes import OutcomeKind
from bot.ports import Clock, NetworkFailure

from .atproto_pds import CreatedRecord, PdsAuthRevoked, PdsFailure, PdsRateLimited, PdsRecordExists
from .bluesky_oauth import REFRESH_MARGIN, BlueskyOAuth, Grant, pds_origin
from .guarded_http import Answer

log = logging.getLogger(__name__)

CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
DEFAULT_BACKOFF = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)


class BlueskyPds:
    """Writes records on linked accounts' PDSes with their DPoP-bound grants."""

    def __init__(self, oauth: BlueskyOAuth, clock: Clock) -> None:
        self._oauth = oauth
        self._clock = clock

    async def create_record(
        self, account: SocialAccount, *, collection: str, rkey: str, record: dict[str, Any]
    ) -> CreatedRecord:
        tokens = self._oauth.current_tokens(account)
        try:
            grant = Grant.of(tokens)
            pds = pds_origin(grant, allow_private=self._oauth.allow_private)
        except NetworkFailure as failure:
            raise PdsAuthRevoked(failure.outcome.reason) from failure
        if tokens.expires_before(self._clock.now() + REFRESH_MARGIN):
            tokens = await self._refresh(account, tokens)
        body = json.dumps(
            {"repo": grant.did, "collection": collection, "rkey": rkey, "record": record},
            ensure_ascii=False,
        ).encode()
        answer = await self._send(pds, grant, tokens, body)
        if answer.status == 401 and _token_refused(answer):
            tokens = await self._refresh(account, tokens)
            answer = await self._send(pds, grant, tokens, body)
        return self._created(answer, grant, collection, rkey)

    async def _send(self, pds: str, grant: Grant, tokens: TokenSet, body: bytes) -> Answer:
        try:
            return await self._oauth.grants.send(
                "POST",
                pds + CREATE_RECORD,
                grant.key,
                body=body,
                access_token=tokens.access_token,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PdsFailure(f"PDS unreachable: {type(exc).__name__}") from exc

    async def _refresh(self, account: SocialAccount, tokens: TokenSet) -> TokenSet:
        """New tokens for the grant (shared with every other caller refreshing it)."""
        try:
            return await self._oauth.refresh_grant(account, tokens)
        except NetworkFailure as failure:
            if failure.outcome.kind is OutcomeKind.REVOKED:
                raise PdsAuthRevoked(failure.outcome.reason) from failure
            raise PdsFailure(failure.outcome.reason) from failure

    def _created(self, answer: Answer, grant: Grant, collection: str, rkey: str) -> CreatedRecord:
        body = answer.json()
        error = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if answer.status == 200 and isinstance(body, dict):
            uri, cid = body.get("uri"), body.get("cid")
            if isinstance(uri, str) and isinstance(cid, str):
                return CreatedRecord(uri=uri, cid=cid)
            raise PdsFailure("unreadable createRecord answer")
        if answer.status == 429:
            raise PdsRateLimited(self._retry_at(answer))
        if answer.status == 409 or (
            answer.status == 400
            and any("exist" in str(text).lower() for text in (error, message) if text)
        ):
            uri = f"at://{grant.did}/{quote(collection, safe='.')}/{quote(rkey, safe='')}"
            raise PdsRecordExists(uri)
        if answer.status in (401, 403):
            raise PdsAuthRevoked(f"PDS answered {answer.status} {error or ''}".strip())
        raise PdsFailure(f"PDS answered {answer.status} {error or ''}".strip())

    def _retry_at(self, answer: Answer) -> datetime:
        """From ``ratelimit-reset`` (epoch seconds) or ``Retry-After``; else a minute on."""
        now = self._clock.now()
        reset = answer.headers.get("ratelimit-reset", "")
        if reset.isdigit():
            at = datetime.fromtimestamp(int(reset), UTC)
            return min(max(at, now), now + MAX_BACKOFF)
        after = answer.headers.get("Retry-After", "")
        if after.isdigit():
            return now + min(timedelta(seconds=int(after)), MAX_BACKOFF)
        return now + DEFAULT_BACKOFF


def _token_refused(answer: Answer) -> bool:
    """401 because the access token lapsed or is unknown (not a nonce request)."""
    challenge = answer.headers.get("WWW-Authenticate", "")
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    return "invalid_token" in challenge or error in ("invalid_token", "ExpiredToken")
