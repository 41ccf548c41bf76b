"""Hypothesis settings for the property tests: quick, deterministic, nothing written to disk.

No deadline (a shared CI machine may pause any example), no example database (CI starts
from a clean checkout), and derandomised so a run is the same on every machine; a test
that needs more or fewer examples says so with ``@settings``.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile(
    "chorus", deadline=None, database=None, derandomize=True, max_examples=150
)
settings.load_profile("chorus")
