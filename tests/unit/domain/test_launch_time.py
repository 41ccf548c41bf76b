"""Reading a launch moment typed by a person, in the deployment's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.launch_time import MAX_AHEAD, parse_launch_moment

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Paris (CET, UTC+1)
LEAD = timedelta(minutes=60)


def parse(text: str, *, now: datetime = NOW, tz: ZoneInfo = PARIS) -> datetime:
    return parse_launch_moment(text, now=now, tz=tz, min_lead=LEAD)


def refused(text: str, *, now: datetime = NOW, tz: ZoneInfo = PARIS) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        parse(text, now=now, tz=tz)
    return exc.value


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_main_form_is_read_in_the_default_time_zone_in_winter() -> None:
    assert parse("2030-01-20 18:00") == utc(2030, 1, 20, 17, 0)


def test_main_form_in_summer_uses_summer_time() -> None:
    assert parse("2030-07-14 18:00") == utc(2030, 7, 14, 16, 0)


def test_result_is_aware_utc() -> None:
    moment = parse("2030-01-20 18:00")
    assert moment.tzinfo is UTC
    assert moment.utcoffset() == timedelta(0)


def test_same_text_in_utc_zone() -> None:
    assert parse("2030-01-20 18:00", tz=ZoneInfo("UTC")) == utc(2030, 1, 20, 18, 0)


def test_just_before_and_after_spring_forward() -> None:
    # 2030-03-31: Paris jumps from 02:00 CET to 03:00 CEST.
    assert parse("2030-03-31 01:59") == utc(2030, 3, 31, 0, 59)
    assert parse("2030-03-31 03:00") == utc(2030, 3, 31, 1, 0)


def test_a_wall_time_skipped_by_spring_forward_is_refused() -> None:
    error = refused("2030-03-31 02:30")
    assert error.key == "launch.nonexistent"
    assert error.text.params == {"value": "2030-03-31 02:30", "timezone": "Europe/Paris"}


def test_a_wall_time_repeated_by_fall_back_means_the_first_one() -> None:
    # 2030-10-27: Paris goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
    assert parse("2030-10-27 02:30") == utc(2030, 10, 27, 0, 30)
    assert parse("2030-10-27 03:30") == utc(2030, 10, 27, 2, 30)


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-20T18:00",
        "2030-01-20 18:00:00",
        "2030-01-20T18:00:00",
        "20/01/2030 18:00",
        "20.01.2030 18:00",
        "  2030-01-20 18:00  ",
        "2030-01-20T18:00+01:00",
        "2030-01-20T17:00Z",
        "2030-01-20T12:00-05:00",
    ],
)
def test_other_accepted_forms(text: str) -> None:
    assert parse(text) == utc(2030, 1, 20, 17, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 90 minutes", NOW + timedelta(minutes=90)),
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("in 2h", NOW + timedelta(hours=2)),
        ("IN 3 DAYS", NOW + timedelta(days=3)),
        ("in 61 min", NOW + timedelta(minutes=61)),
        ("tomorrow 18:00", utc(2030, 1, 16, 17, 0)),
        ("demain 18h00", utc(2030, 1, 16, 17, 0)),
        ("today 18:30", utc(2030, 1, 15, 17, 30)),
    ],
)
def test_relative_forms(text: str, expected: datetime) -> None:
    assert parse(text) == expected


def test_tomorrow_means_the_local_tomorrow() -> None:
    # 23:30 UTC on the 15th is already the 16th in Paris.
    late = utc(2030, 1, 15, 23, 30)
    assert parse("tomorrow 09:00", now=late) == utc(2030, 1, 17, 8, 0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "next friday",
        "soon",
        "2030-02-30 18:00",  # Feb 30
        "30/02/2030 18:00",
        "2030-13-01 18:00",
        "2030-01-20 25:00",
        "2030-01-20",  # a date without a time of day is not a moment
        "today 24:00",
        "in many minutes",
    ],
)
def test_unreadable_text_is_refused_with_the_text_echoed(text: str) -> None:
    error = refused(text)
    assert error.key == "launch.unparseable"
    assert error.text.params["value"] == text.strip()


def test_echoed_value_is_capped() -> None:
    error = refused("x" * 500)
    assert error.key == "launch.unparseable"
    assert len(error.text.params["value"]) == 40


def test_past_is_refused() -> None:
    assert refused("2030-01-15 12:00").key == "launch.past"  # 11:00 UTC, an hour ago
    assert refused("2030-01-15 13:00").key == "launch.past"  # exactly now
    assert refused("in 0 minutes").key == "launch.past"


def test_too_soon_is_refused_with_the_lead_in_minutes() -> None:
    error = refused("in 59 minutes")
    assert error.key == "launch.too_soon"
    assert error.text.params == {"minutes": 60}


def test_exactly_the_minimum_lead_is_accepted() -> None:
    assert parse("in 60 minutes") == NOW + LEAD
    assert parse("2030-01-15 14:00") == NOW + LEAD


def test_too_far_is_refused_and_the_limit_itself_is_accepted() -> None:
    assert refused("in 367 days").key == "launch.too_far"
    assert parse("in 366 days") == NOW + MAX_AHEAD
