"""Versioned schema migrations: ordered numbered SQL steps applied at start-up.

Steps live in ``storage/migrations/<dialect>/NNNN_name.sql``. The ``schema_version`` table
records each applied step; every step and its version row commit in one transaction, so a
crash half-way leaves the database at the previous version, never in between.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

log = logging.getLogger(__name__)

_STEP_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
DIALECTS = frozenset({"sqlite", "postgres"})


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    sql: str


class MigrationTarget(Protocol):
    """What a back end offers the runner."""

    async def schema_version(self) -> int:
        """The highest applied step (0 for an empty database); creates the version table."""
        ...

    async def apply_step(self, step: Step) -> bool:
        """Run ``step`` and record it in one transaction; False if it was already applied."""
        ...


def load_steps(dialect: str) -> list[Step]:
    """The dialect's steps in order; numbers must run 1, 2, 3… without gaps."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    folder = resources.files("storage").joinpath("migrations", dialect)
    steps = []
    for entry in folder.iterdir():
        match = _STEP_NAME.match(entry.name)
        if match:
            steps.append(Step(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    steps.sort(key=lambda step: step.version)
    expected = list(range(1, len(steps) + 1))
    if [step.version for step in steps] != expected:
        raise RuntimeError(f"migration steps for {dialect} are not numbered 1..{len(steps)}")
    return steps


async def migrate(target: MigrationTarget, dialect: str) -> int:
    """Apply every pending step to ``target``; return the schema version reached."""
    steps = load_steps(dialect)
    current = await target.schema_version()
    if current > len(steps):
        raise RuntimeError(
            f"database schema version {current} is newer than this code ({len(steps)})"
        )
    for step in steps[current:]:
        if await target.apply_step(step):
            log.info("applied %s migration %04d_%s", dialect, step.version, step.name)
    return await target.schema_version()
