"""Builds the long INSERT and UPDATE statements from the column lists in ``storage.rows``.

Only table and column names from our own code go into the text (each checked as a plain
identifier); every value is a bound parameter, written the PostgreSQL way (``$1``, ``$2``…)
like every statement in ``storage.repository``; ``storage.sqlite`` translates it.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.rows import identifier


def insert(table: str, columns: Sequence[str], *, suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (…)`` plus ``suffix`` (ON CONFLICT, RETURNING)."""
    names = ", ".join(identifier(column) for column in columns)
    markers = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {identifier(table)} ({names}) VALUES ({markers}) {suffix}".strip()


def update_versioned(table: str, columns: Sequence[str]) -> str:
    """``UPDATE`` every column, bump ``version``, only where id and version match.

    Parameters: the column values, then the id, then the expected version.
    """
    sets = ", ".join(f"{identifier(column)} = ${i}" for i, column in enumerate(columns, 1))
    n = len(columns)
    return (
        f"UPDATE {identifier(table)} SET {sets}, version = version + 1 "
        f"WHERE id = ${n + 1} AND version = ${n + 2} "
        "RETURNING *"
    )


def update_by_id(table: str, columns: Sequence[str]) -> str:
    """``UPDATE`` the given columns and bump ``version``; parameters: values, then the id."""
    sets = ", ".join(f"{identifier(column)} = ${i}" for i, column in enumerate(columns, 1))
    return (
        f"UPDATE {identifier(table)} SET {sets}, version = version + 1 "
        f"WHERE id = ${len(columns) + 1}"
    )
