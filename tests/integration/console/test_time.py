"""The console's fast-forward: durations it reads and the clock it shifts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.console.clock import ShiftableClock
from adapters.console.durations import parse_duration
from bot.domain.errors import InvalidInput
from bot.testing.clock import FakeClock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d 2h", timedelta(hours=26)),
        ("90s", timedelta(seconds=90)),
        ("15min", timedelta(minutes=15)),
        ("2H", timedelta(hours=2)),
    ],
)
def test_durations_people_type(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "2", "h", "0m", "-2h", "2h soon", "9999d"])
def test_unreadable_durations_are_refused_with_the_value(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_duration(text)
    assert refused.value.key == "console.bad_duration"
    assert refused.value.text.params["value"] == text.strip()


def test_the_clock_moves_forward_only() -> None:
    base = FakeClock()
    clock = ShiftableClock(base)
    assert clock.now() == base.now()
    clock.shift(timedelta(hours=2))
    assert clock.now() - base.now() == timedelta(hours=2)
    base.advance(timedelta(minutes=1))  # real time keeps flowing underneath
    assert clock.now() - base.now() == timedelta(hours=2)
    with pytest.raises(ValueError):
        clock.shift(timedelta(minutes=-1))
