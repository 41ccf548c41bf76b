"""Properties of the launch-moment parser: it explains every refusal, and what it accepts
is a moment in aware UTC that reads back the same in the organiser's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.launch_time import MAX_AHEAD, parse_launch_moment
from tests.unit.properties.strategies import tricky_text

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Pacific/Kiritimati",  # UTC+14
        "Pacific/Pago_Pago",  # UTC-11
        "Australia/Lord_Howe",  # a half-hour daylight-saving shift
        "Asia/Kathmandu",  # UTC+5:45
    )
]
zones = st.sampled_from(ZONES)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
leads = st.integers(min_value=0, max_value=180).map(lambda m: timedelta(minutes=m))

# Date-like text: every form the parser knows, with numbers that may be out of range.
years = st.one_of(st.integers(1, 9999), st.sampled_from([1, 2, 9998, 9999]))
months, days = st.integers(0, 13), st.integers(0, 32)  # one past each end
hours, minutes = st.integers(0, 25), st.integers(0, 60)
offsets = st.sampled_from(["", "Z", "+00:00", "+14:00", "-12:00", "+05:45", "+23:59"])
separators = st.sampled_from([" ", "T"])
date_like = st.one_of(
    st.builds(  # the first and last days a datetime can hold
        lambda day, sep, h, mi, off: f"{day}{sep}{h:02d}:{mi:02d}{off}",
        st.sampled_from(["0001-01-01", "9999-12-31"]),
        separators,
        hours,
        minutes,
        offsets,
    ),
    st.builds(
        lambda y, mo, d, h, mi, sep, off: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}{off}",
        years,
        months,
        days,
        hours,
        minutes,
        separators,
        offsets,
    ),
    st.builds(
        lambda d, mo, y, h, mi, sep: f"{d:02d}{sep}{mo:02d}{sep}{y:04d} {h:02d}:{mi:02d}",
        days,
        months,
        years,
        hours,
        minutes,
        st.sampled_from(["/", "."]),
    ),
    st.builds(
        lambda word, h, mi, sep: f"{word} {h}{sep}{mi:02d}",
        st.sampled_from(["today", "Tomorrow", "demain", "aujourd'hui"]),
        hours,
        minutes,
        st.sampled_from([":", "h"]),
    ),
    st.builds(
        lambda n, unit: f"in {n} {unit}",
        st.integers(0, 9999),
        st.sampled_from(["m", "min", "minutes", "h", "hours", "d", "days"]),
    ),
)


def parse(text: str, now: datetime, tz: ZoneInfo, lead: timedelta) -> datetime | None:
    """The accepted moment, or None when refused with one of our explained errors."""
    try:
        return parse_launch_moment(text, now=now, tz=tz, min_lead=lead)
    except DomainError:
        return None


@given(tricky_text, nows, zones, leads)
def test_any_text_is_a_moment_or_an_explained_refusal(
    text: str, now: datetime, tz: ZoneInfo, lead: timedelta
) -> None:
    check_accepted(parse(text, now, tz, lead), now, lead)


@settings(max_examples=300)
@given(date_like, nows, zones, leads)
def test_any_date_like_text_is_a_moment_or_an_explained_refusal(
    text: str, now: datetime, tz: ZoneInfo, lead: timedelta
) -> None:
    check_accepted(parse(text, now, tz, lead), now, lead)


def check_accepted(moment: datetime | None, now: datetime, lead: timedelta) -> None:
    if moment is not None:
        assert moment.tzinfo is UTC
        assert now + lead <= moment <= now + MAX_AHEAD
        assert moment > now


@given(nows, zones, leads, st.integers(min_value=0, max_value=366 * 24 * 60))
def test_a_local_wall_time_reads_back_as_typed(
    now: datetime, tz: ZoneInfo, lead: timedelta, minutes_ahead: int
) -> None:
    wall = (now.astimezone(tz) + timedelta(minutes=minutes_ahead)).replace(tzinfo=None)
    text = f"{wall:%Y-%m-%d %H:%M}"
    moment = parse(text, now, tz, lead)
    assume(moment is not None)  # a past, too soon, too far or skipped wall time
    assert moment is not None and moment.tzinfo is UTC
    assert f"{moment.astimezone(tz):%Y-%m-%d %H:%M}" == text
    assert parse(f"{moment.astimezone(tz):%Y-%m-%d %H:%M}", now, tz, lead) == moment
    assert parse(moment.isoformat(), now, tz, lead) == moment


# Found by the properties above: UTC of a moment on the first or last day a datetime can
# hold is out of range, which raised OverflowError instead of explaining the refusal.
@pytest.mark.parametrize(
    ("text", "zone", "key"),
    [
        ("0001-01-01T00:00+14:00", "UTC", "launch.past"),
        ("0001-01-01 00:00", "Europe/Paris", "launch.past"),
        ("9999-12-31 23:59", "America/New_York", "launch.too_far"),
        ("9999-12-31T23:59-12:00", "UTC", "launch.too_far"),
    ],
)
def test_moments_at_the_ends_of_the_calendar_are_refused_with_a_reason(
    text: str, zone: str, key: str
) -> None:
    now = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        parse_launch_moment(text, now=now, tz=ZoneInfo(zone), min_lead=timedelta(minutes=60))
    assert refused.value.key == key
