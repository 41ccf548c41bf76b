"""A moderator's words awaited: the reason after Reject, or the note after Request changes.

Stored (``Repository.save_pending_reason``) so a restart between the press and the reason
loses nothing; one per moderator, until it is given, cancelled or expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReasonKind(StrEnum):
    """What the awaited words are for."""

    REJECT = "reject"
    CHANGES = "changes"


@dataclass(frozen=True)
class PendingReason:
    """``moderator_key`` (``UserRef.key``) is rejecting ``campaign_id``; the reason is the
    reply to the prompt message ``prompt_id`` (an id on the moderator's platform)."""

    moderator_key: str
    campaign_id: int
    prompt_id: str
    expires_at: datetime
    kind: ReasonKind = ReasonKind.REJECT
