"""Progress figures: percentage, bar and the milestones a new count crosses."""

from __future__ import annotations

import pytest

from bot.progress import crossed_milestones, percent, progress_bar, reached_milestones


@pytest.mark.parametrize(
    ("supporters", "goal", "expected"),
    [(0, 100, 0), (1, 3, 33), (2, 3, 66), (3, 3, 100), (250, 100, 100), (0, 0, 100), (7, 0, 100)],
)
def test_percent_is_floored_and_capped(supporters: int, goal: int, expected: int) -> None:
    assert percent(supporters, goal) == expected


def test_bar() -> None:
    assert progress_bar(0, 10) == "░░░░░░░░░░ 0%"
    assert progress_bar(4, 10) == "▓▓▓▓░░░░░░ 40%"
    assert progress_bar(99, 100) == "▓▓▓▓▓▓▓▓▓░ 99%"
    assert progress_bar(30, 10) == "▓▓▓▓▓▓▓▓▓▓ 100%"
    assert progress_bar(5, 0) == "▓" * 10


@pytest.mark.parametrize(
    ("before", "after", "goal", "expected"),
    [
        (0, 1, 4, [25]),
        (0, 1, 100, []),
        (24, 25, 100, [25]),
        (25, 26, 100, []),
        (0, 100, 100, [25, 50, 75, 100]),
        (74, 100, 100, [75, 100]),
        (100, 101, 100, []),
        (1, 2, 3, [50]),  # 33% -> 66%
        (2, 3, 3, [75, 100]),
        (3, 2, 3, []),  # going down crosses nothing
        (0, 10, 0, []),  # no minimum, no milestones
    ],
)
def test_crossed_milestones(before: int, after: int, goal: int, expected: list[int]) -> None:
    assert crossed_milestones(before, after, goal) == expected


def test_reached_milestones() -> None:
    assert reached_milestones(60, 100) == [25, 50]
    assert reached_milestones(5, 0) == []
    assert reached_milestones(100, 100) == [25, 50, 75, 100]
