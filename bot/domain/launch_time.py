"""Reading a launch moment typed by a person, in their time zone, into aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import InvalidInput

MAX_AHEAD = timedelta(days=366)

_ABSOLUTE_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M",
)
_RELATIVE_RE = re.compile(
    r"^in\s+(\d{1,4})\s*(m|min|mins|minutes?|h|hours?|d|days?)$", re.IGNORECASE
)
_HAS_TIME_RE = re.compile(r"\d[T ]\d", re.IGNORECASE)
_DAY_WORD_RE = re.compile(r"^(today|tomorrow|demain|aujourd'hui)\s+(\d{1,2})[:h](\d{2})$", re.I)


def parse_launch_moment(
    text: str, *, now: datetime, tz: ZoneInfo, min_lead: timedelta
) -> datetime:
    """Parse ``text`` as a launch moment and check it is far enough ahead.

    Accepts ``YYYY-MM-DD HH:MM`` (and ``T``, seconds, ``DD/MM/YYYY HH:MM``,
    ``DD.MM.YYYY HH:MM``) in ``tz``; ISO 8601 with an offset; ``tomorrow 18:00``;
    ``in 90 minutes``. Returns aware UTC.
    """
    moment = _parse(text.strip(), now=now, tz=tz)
    if moment <= now:
        raise InvalidInput("launch.past")
    if moment - now < min_lead:
        raise InvalidInput("launch.too_soon", minutes=int(min_lead.total_seconds() // 60))
    if moment - now > MAX_AHEAD:
        raise InvalidInput("launch.too_far")
    return moment


def _parse(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    relative = _RELATIVE_RE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        unit_delta = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
        return now + amount * unit_delta[unit[0]]
    day_word = _DAY_WORD_RE.match(text)
    if day_word:
        word, hour, minute = (
            day_word.group(1).lower(),
            int(day_word.group(2)),
            int(day_word.group(3)),
        )
        local_day = now.astimezone(tz).date()
        if word in ("tomorrow", "demain"):
            local_day += timedelta(days=1)
        try:
            local = datetime(local_day.year, local_day.month, local_day.day, hour, minute)
        except ValueError as exc:
            raise InvalidInput("launch.unparseable", value=text[:40]) from exc
        return _localise(local, tz)
    for fmt in _ABSOLUTE_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _localise(naive, tz)
    try:
        if not _HAS_TIME_RE.search(text):
            raise ValueError("a date without a time of day")
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("launch.unparseable", value=text[:40]) from exc
    if parsed.tzinfo is None:
        return _localise(parsed, tz)
    return _utc(parsed)


def _localise(naive: datetime, tz: ZoneInfo) -> datetime:
    """``naive`` read in ``tz`` as UTC; a wall time the clocks skip (DST) is refused.

    A repeated wall time (clocks going back) means its first occurrence.
    """
    moment = _utc(naive.replace(tzinfo=tz, fold=0))
    if moment.astimezone(tz).replace(tzinfo=None) != naive.replace(fold=0):
        raise InvalidInput("launch.nonexistent", value=f"{naive:%Y-%m-%d %H:%M}", timezone=tz.key)
    return moment


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; on the first or last day a datetime can hold, UTC may be out of
    range, and such a moment is past or too far anyway."""
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInput("launch.past" if moment.year < 2000 else "launch.too_far") from exc
