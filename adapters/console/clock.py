"""A clock the console can fast-forward: real time plus an offset that only grows.

``/wait 2h`` and ``/launch`` shift it; the scheduler reads it through the ``Clock`` port
like any other clock, then ``sync()`` runs whatever became due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import SystemClock
from bot.ports import Clock


class ShiftableClock:
    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def shift(self, delta: timedelta) -> datetime:
        """Move the clock ``delta`` ahead (never back); return the new now."""
        if delta < timedelta():
            raise ValueError("the console clock only moves forward")
        self._offset += delta
        return self.now()
