"""The core imports no chat SDK, social SDK or database driver (ports and adapters), and
names no social network (it iterates over the registered ones); imports point inwards (no
core module imports adapters or storage) and only the process wiring calls the composition
root; the unit tier of the tests loads no database driver either."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

from bot.domain.networks import NetworkSpec

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


# Network ids are the adapters' business: the core learns them from the registry.
NETWORK_MODULES = (
    "adapters.networks.x",
    "adapters.networks.x_spec",
    "adapters.networks.mastodon",
    "adapters.networks.bluesky",
    "adapters.networks.sandbox",
)
COMPOSITION_ROOT = "bot/runtime.py"  # registers each adapter: one line per network


def _network_constants() -> tuple[set[str], set[str]]:
    """Every registered network's id, and the names its adapter module exports it under."""
    ids: set[str] = set()
    names: set[str] = set()
    for module_name in NETWORK_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, NetworkSpec):
                ids.add(str(value.id))
                names.update({name, str(value.id).upper()})
    return ids, names


def _network_mentions(path: Path, ids: set[str], names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # a field of a signed token ({"x": expires}, data["x"]) is not a network's name
    keys = {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys}
    keys |= {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in keys:
            if node.value.lower() in ids:
                found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in names:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.ImportFrom) and node.module in NETWORK_MODULES:
            found.append(f"line {node.lineno}: from {node.module}")
    return found


def test_the_core_names_no_network() -> None:
    ids, names = _network_constants()
    assert {"x", "mastodon", "sandbox"} <= ids  # the walk below looks for these
    offenders = {
        str(path.relative_to(CORE.parent)): mentions
        for path in CORE.rglob("*.py")
        if (mentions := _network_mentions(path, ids, names))
        and str(path.relative_to(CORE.parent)) != COMPOSITION_ROOT
    }
    assert offenders == {}


def test_the_network_walk_finds_what_it_looks_for(tmp_path: Path) -> None:
    ids, names = _network_constants()
    source = tmp_path / "branchy.py"
    source.write_text(
        "from adapters.networks.x import X\n"
        "if network is Network.MASTODON or network == 'x' or network == X:\n"
        "    token = {'x': data['x']}\n",
        encoding="utf-8",
    )
    assert _network_mentions(source, ids, names) == [
        "line 1: from adapters.networks.x",
        "line 2: .MASTODON",
        "line 2: 'x'",
        "line 2: X",
    ]


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


# The direction of imports: adapters and storage depend on the core, never the reverse.
# ``bot.app`` (the composition root) wires the core from parts it is given; the process
# around it (``bot.runtime``, and ``bot.cli`` which starts the console) is the only part
# of ``bot/`` that reaches for adapters and storage, and ``bot.runtime`` (``serve`` and
# ``wire_console``) the only module that calls the root.
PROCESS_MODULES = {"bot/runtime.py", "bot/cli.py"}
ROOT_CALLERS = {"bot/runtime.py"}  # ``serve`` and ``wire_console``


def _modules_imported(path: Path) -> set[str]:
    """Every module ``path`` imports, in full (``from a.b import c`` gives ``a.b.c`` and
    ``a.b``), function-level imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _python_files(*packages: str) -> dict[str, Path]:
    root = CORE.parent
    return {
        str(path.relative_to(root)): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def _reaches(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for name in modules)


def test_core_modules_import_neither_adapters_nor_storage() -> None:
    offenders = {
        name: sorted(m for m in imported if _reaches({m}, "adapters") or _reaches({m}, "storage"))
        for name, path in _python_files("bot").items()
        if name not in PROCESS_MODULES
        and (
            _reaches(imported := _modules_imported(path), "adapters")
            or _reaches(imported, "storage")
        )
    }
    assert offenders == {}


def test_only_the_process_wiring_calls_the_composition_root() -> None:
    importers = {
        name
        for name, path in _python_files("bot", "adapters").items()
        if _reaches(_modules_imported(path), "bot.app")
    }
    assert importers == ROOT_CALLERS  # no adapter, no core module: they are handed parts


def test_benchmarks_import_only_the_package_and_their_own_helpers() -> None:
    """They run from an installed Chorus: nothing from ``tests`` (a fake server may still be
    started from the checkout as a process)."""
    importers = {
        name
        for name, path in _python_files("benchmarks").items()
        if _reaches(_modules_imported(path), "tests")
    }
    assert importers == set()


def test_the_import_walk_finds_what_it_looks_for(tmp_path: Path) -> None:
    source = tmp_path / "wiring.py"
    source.write_text(
        "import storage.sqlite\n"
        "from bot import app\n"
        "def later():\n"
        "    from adapters.networks import x\n",
        encoding="utf-8",
    )
    imported = _modules_imported(source)
    assert _reaches(imported, "storage")
    assert _reaches(imported, "bot.app")
    assert _reaches(imported, "adapters")
    assert not _reaches({"bot.application"}, "bot.app")


def test_only_the_metrics_facade_imports_prometheus() -> None:
    importers = sorted(
        str(path.relative_to(CORE.parent))
        for path in CORE.rglob("*.py")
        if "prometheus_client" in _imports(path)
    )
    assert importers == ["bot/metrics.py"]
