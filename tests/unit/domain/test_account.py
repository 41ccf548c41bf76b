"""Follower counts as networks report them, made sane before anything adds them up."""

from __future__ import annotations

import pytest

from bot.domain.account import FOLLOWERS_MAX, follower_count


@pytest.mark.parametrize(
    ("reported", "count"),
    [
        (0, 0),
        (1234, 1234),
        (FOLLOWERS_MAX, FOLLOWERS_MAX),
        (FOLLOWERS_MAX + 1, FOLLOWERS_MAX),
        (2**63 - 1, FOLLOWERS_MAX),
        (10**400, FOLLOWERS_MAX),
        (-1, 0),
        (-(2**63), 0),
        (12.9, 12),
        (float("inf"), FOLLOWERS_MAX),
        (float("-inf"), 0),
        (float("nan"), 0),
        ("42", 42),
        (" 0042 ", 42),
        ("9" * 5000, FOLLOWERS_MAX),
        ("-3", 0),
        ("1e9", 0),
        ("lots", 0),
        ("", 0),
        (None, 0),
        (True, 0),
        ([], 0),
        ({"count": 3}, 0),
    ],
)
def test_a_reported_follower_count_becomes_a_bounded_whole_number(
    reported: object, count: int
) -> None:
    assert follower_count(reported) == count
