"""A rejection waiting for its reason: the moderator pressed Reject, the reason comes next.

Stored (``Repository.save_pending_reason``) so a restart between the press and the reason
loses nothing; one per moderator, until it is given, cancelled or expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PendingReason:
    """``moderator_key`` (``UserRef.key``) is rejecting ``campaign_id``; the reason is the
    reply to the prompt message ``prompt_id`` (an id on the moderator's platform)."""

    moderator_key: str
    campaign_id: int
    prompt_id: str
    expires_at: datetime
