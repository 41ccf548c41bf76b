"""Reading the durations typed after ``/wait``: ``30m``, ``2h``, ``1h30m``, ``1d``, ``90s``."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.errors import InvalidInput

MAX_DURATION = timedelta(days=400)
_PART_RE = re.compile(r"(\d{1,6})\s*(min|d|h|m|s)", re.IGNORECASE)
_UNITS = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}


def parse_duration(text: str) -> timedelta:
    """``2h`` → two hours; ``InvalidInput('console.bad_duration')`` when unreadable."""
    cleaned = text.strip().lower().replace(" ", "")
    total = timedelta()
    position = 0
    for match in _PART_RE.finditer(cleaned):
        if match.start() != position:
            break
        total += int(match.group(1)) * _UNITS[match.group(2).lower()]
        position = match.end()
    if not cleaned or position != len(cleaned):
        raise InvalidInput("console.bad_duration", value=text.strip()[:40])
    if total <= timedelta() or total > MAX_DURATION:
        raise InvalidInput("console.bad_duration", value=text.strip()[:40])
    return total
