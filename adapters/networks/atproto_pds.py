"""The seam between Bluesky's OAuth side and its posting side: writing a record on a PDS.

Calls to a supporter's PDS are DPoP-bound (a proof per request, server nonces, tokens
refreshed before they lapse); that belongs with the OAuth code. Building the post (rich
text facets, the record key that makes a retry idempotent, rate limits) belongs with the
network adapter. The adapter asks for one thing, ``create_record``, and gets a typed
answer or one of the typed failures below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain.account import SocialAccount


@dataclass(frozen=True)
class CreatedRecord:
    """A record the PDS holds: its ``at://`` URI and content hash."""

    uri: str
    cid: str


class PdsFailure(Exception):
    """The PDS could not be reached or answered an error not listed below."""


class PdsRateLimited(PdsFailure):
    """429: try again at ``retry_at`` (from the rate-limit headers)."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"rate limited until {retry_at.isoformat()}")
        self.retry_at = retry_at


class PdsAuthRevoked(PdsFailure):
    """The grant is gone (revoked, expired beyond refresh): the supporter must link again."""


class PdsRecordExists(PdsFailure):
    """A record with this key already exists: an earlier attempt went through."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"record exists: {uri}")
        self.uri = uri


class PdsRejected(PdsFailure):
    """The PDS refused the record itself (400 ``InvalidRecord``, ``InvalidRequest``, a
    body too large...): sending it again would be refused again, so it is permanent."""

    def __init__(self, error: str) -> None:
        super().__init__(f"record refused: {error}")
        self.error = error


class PdsClient(Protocol):
    """Writes records on the PDS of a linked account, with that account's grant."""

    async def create_record(
        self, account: SocialAccount, *, collection: str, rkey: str, record: dict[str, Any]
    ) -> CreatedRecord:
        """Create ``record`` under ``collection``/``rkey`` in the account's repository."""
        ...
