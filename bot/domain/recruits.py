"""Recruiters of a campaign: who brought how many people through their recruit link.

Derived from the pledge rows (``Pledge.recruited_by``), never stored: a recruited person
counts once however many accounts they pledged, and only while one pledge is not withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Recruiter:
    """``key`` is the recruiter's supporter key; ``since`` when they first brought someone."""

    key: str
    recruited: int
    since: datetime
