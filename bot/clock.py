"""The real clock; tests use ``bot.testing.clock.FakeClock`` through the same port."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
