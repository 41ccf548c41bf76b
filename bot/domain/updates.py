"""An organiser's update to a campaign's supporters, and the rules its text follows.

The text is the organiser's own words, shown as typed (front ends render it as plain
text); it is bounded so an update stays a short note, not a newsletter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import InvalidInput

MAX_LENGTH = 1000  # characters of an update's text


@dataclass(frozen=True)
class CampaignUpdate:
    """One update sent to a campaign's supporters, and how its delivery went."""

    campaign_id: int
    text: str
    sent_at: datetime
    total: int = 0  # distinct supporters when it was sent
    reached: int = 0  # those whose private message arrived
    muted: int = 0  # those who muted the campaign's updates
    unreachable: int = 0  # no private chat (web pledges), or the platform refused
    id: int | None = None


def update_text(raw: str) -> str:
    """The update's text, trimmed; ``InvalidInput`` when empty or too long."""
    text = raw.strip()
    if not text:
        raise InvalidInput("update.empty")
    if len(text) > MAX_LENGTH:
        raise InvalidInput("update.too_long", length=len(text), max=MAX_LENGTH)
    return text
