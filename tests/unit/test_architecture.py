"""The core imports no chat SDK, social SDK or database driver (ports and adapters)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {
    "telegram",
    "discord",
    "tweepy",
    "mastodon",
    "atproto",
    "aiosqlite",
    "asyncpg",
    "sqlite3",
    "psycopg",
    "psycopg2",
    "redis",
}
CORE = Path(__file__).resolve().parents[2] / "bot"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_platform_sdk_or_driver() -> None:
    offenders = {
        str(path.relative_to(CORE.parent)): sorted(_imports(path) & FORBIDDEN)
        for path in CORE.rglob("*.py")
        if _imports(path) & FORBIDDEN
    }
    assert offenders == {}


def test_sql_lives_only_in_storage() -> None:
    root = CORE.parent
    for package in ("bot", "adapters"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8").upper()
            assert "SELECT " not in text or "FROM " not in text, f"SQL in {path}"
