"""Builds the long INSERT and UPDATE statements from the column lists in ``storage.rows``.

Only table and column names from our own code go into the text (each checked as a plain
identifier); every value is a bound parameter, written ``?`` for SQLite and ``$n`` for
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from storage.rows import identifier

Style = Literal["qmark", "numeric"]


def _marker(style: Style, position: int) -> str:
    return "?" if style == "qmark" else f"${position}"


def insert(table: str, columns: Sequence[str], style: Style, *, suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (…)`` plus ``suffix`` (ON CONFLICT, RETURNING)."""
    names = ", ".join(identifier(column) for column in columns)
    markers = ", ".join(_marker(style, i) for i in range(1, len(columns) + 1))
    return f"INSERT INTO {identifier(table)} ({names}) VALUES ({markers}) {suffix}".strip()


def update_versioned(table: str, columns: Sequence[str], style: Style) -> str:
    """``UPDATE`` every column, bump ``version``, only where id and version match.

    Parameters: the column values, then the id, then the expected version.
    """
    sets = ", ".join(
        f"{identifier(column)} = {_marker(style, i)}" for i, column in enumerate(columns, 1)
    )
    n = len(columns)
    return (
        f"UPDATE {identifier(table)} SET {sets}, version = version + 1 "
        f"WHERE id = {_marker(style, n + 1)} AND version = {_marker(style, n + 2)} "
        "RETURNING *"
    )


def update_by_id(table: str, columns: Sequence[str], style: Style) -> str:
    """``UPDATE`` the given columns and bump ``version``; parameters: values, then the id."""
    sets = ", ".join(
        f"{identifier(column)} = {_marker(style, i)}" for i, column in enumerate(columns, 1)
    )
    return (
        f"UPDATE {identifier(table)} SET {sets}, version = version + 1 "
        f"WHERE id = {_marker(style, len(columns) + 1)}"
    )
