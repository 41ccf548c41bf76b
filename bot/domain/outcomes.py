"""Typed results of talking to a social network, so the blast can decide what to do.

Adapters never raise for an expected failure: they return one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OutcomeKind(StrEnum):
    POSTED = "posted"
    REVOKED = "revoked"  # token revoked or account suspended: permanent
    RATE_LIMITED = "rate_limited"  # retry after ``retry_at``
    REJECTED = "rejected"  # content refused (duplicate, too long): permanent
    NETWORK_DOWN = "network_down"  # transient: retry with backoff


PERMANENT = frozenset({OutcomeKind.REVOKED, OutcomeKind.REJECTED})


@dataclass(frozen=True)
class PostOutcome:
    kind: OutcomeKind
    remote_id: str | None = None
    url: str | None = None
    retry_at: datetime | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.POSTED

    @property
    def permanent(self) -> bool:
        return self.kind in PERMANENT


@dataclass(frozen=True)
class RemotePost:
    """A post read back from an account's timeline."""

    remote_id: str
    text: str
    url: str
    created_at: datetime
