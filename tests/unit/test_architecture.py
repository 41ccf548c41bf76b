"""The core imports no chat SDK, social SDK or database driver (ports and adapters), no
adapter imports the composition root, and the unit tier of the tests loads no database
driver either."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
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


def _modules_imported(path: Path) -> set[str]:
    """Every module ``path`` imports, in full (``bot.app`` for ``from bot.app import X``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_adapter_imports_the_composition_root() -> None:
    """Front ends are handed the services they call; none reaches for ``bot.app``."""
    adapters = CORE.parent / "adapters"
    offenders = sorted(
        str(path.relative_to(CORE.parent))
        for path in adapters.rglob("*.py")
        if any(
            name == "bot.app" or name.startswith("bot.app.") for name in _modules_imported(path)
        )
    )
    assert offenders == []


def test_sql_lives_only_in_storage() -> None:
    root = CORE.parent
    for package in ("bot", "adapters"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8").upper()
            assert "SELECT " not in text or "FROM " not in text, f"SQL in {path}"


DRIVERS = ("aiosqlite", "asyncpg", "sqlite3", "psycopg", "psycopg2")
_IMPORT_UNIT_TIER = """
import importlib, json, pathlib, sys
root = pathlib.Path.cwd()
modules = ["tests.conftest"] + [
    ".".join(path.relative_to(root).with_suffix("").parts)
    for path in sorted((root / "tests" / "unit").rglob("*.py"))
]
for name in modules:
    importlib.import_module(name)
print(json.dumps({"modules": len(modules), "drivers": sorted(set(sys.modules) & DRIVERS)}))
"""


def test_the_unit_tier_imports_no_database_driver() -> None:
    """Collecting the unit tier (its test modules, helpers and every conftest above them)
    loads no database driver, so the core's tests run where no driver is installed."""
    script = f"DRIVERS = {set(DRIVERS)!r}\n{_IMPORT_UNIT_TIER}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=CORE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["modules"] > 50  # the walk did find the tier
    assert found["drivers"] == []
