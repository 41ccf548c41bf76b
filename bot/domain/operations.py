"""What a process reports about its own health: the schema it runs on and the work waiting.

Plain figures read from the database by the repository and shown by ``/readyz`` and
``/metrics``; kept apart from the campaign domain because they describe the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SchemaStatus:
    """The highest migration applied to the database, and the highest this code knows."""

    applied: int
    known: int

    @property
    def current(self) -> bool:
        return self.applied == self.known


@dataclass(frozen=True)
class PledgeCounts:
    """Pledges by status (every campaign together), and how many a blast still has to post
    (pledged, in a campaign that is launching)."""

    by_status: dict[str, int] = field(default_factory=dict)
    queued: int = 0
