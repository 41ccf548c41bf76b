"""Progress figures as people read them: the bar, the percentage, the milestones."""

from __future__ import annotations

MILESTONES = (25, 50, 75, 100)
BAR_WIDTH = 10


def percent(supporters: int, goal: int) -> int:
    if goal <= 0:
        return 100
    return min(100, supporters * 100 // goal)


def progress_bar(supporters: int, goal: int) -> str:
    """``▓▓▓▓░░░░░░ 40%``; with no minimum, just the count."""
    if goal <= 0:
        return "▓" * BAR_WIDTH
    filled = min(BAR_WIDTH, supporters * BAR_WIDTH // goal)
    return "▓" * filled + "░" * (BAR_WIDTH - filled) + f" {percent(supporters, goal)}%"


def crossed_milestones(before: int, after: int, goal: int) -> list[int]:
    """Milestones passed when the count went from ``before`` to ``after``."""
    if goal <= 0:
        return []
    return [m for m in MILESTONES if percent(before, goal) < m <= percent(after, goal)]


def reached_milestones(supporters: int, goal: int) -> list[int]:
    if goal <= 0:
        return []
    return [m for m in MILESTONES if m <= percent(supporters, goal)]
