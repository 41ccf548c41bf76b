"""The ``chorus`` command as an operator runs it: migrate, run, and every refusal in one line."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds before a stuck process is killed (a guard, not a speed check)
SECRET = "test-secret-not-real-0123456789abcdef"
LISTENING_RE = re.compile(r"web server listening on http://([\d.]+):(\d+)")


def chorus_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any Chorus setting, plus ``settings``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", DATA_DIR=str(tmp_path / "data"))
    env.update(settings)
    return env


def chorus(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=chorus_env(tmp_path, **settings),
        cwd=tmp_path,  # no stray .env
        timeout=TIMEOUT,
        check=False,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], setting: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chorus: ") and setting in lines[0], lines[0]


def test_migrate_applies_the_schema_and_prints_its_version(tmp_path: Path) -> None:
    database = tmp_path / "db" / "chorus.sqlite3"
    url = f"sqlite:///{database}"
    first = chorus(tmp_path, "migrate", SECRET_KEY=SECRET, DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    match = re.fullmatch(r"Database schema is at version (\d+)\.\n", first.stdout)
    assert match, first.stdout
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"campaigns", "pledges"} <= tables
    again = chorus(tmp_path, "migrate", SECRET_KEY=SECRET, DATABASE_URL=url)
    assert again.stdout == first.stdout  # nothing left to apply


def test_migrate_speaks_the_default_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    result = chorus(
        tmp_path, "migrate", SECRET_KEY=SECRET, DATABASE_URL=url, DEFAULT_LANGUAGE="fr"
    )
    assert result.stdout.startswith("Le schéma de la base de données est à la version ")


@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_missing_secret_key_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    assert_one_line_refusal(chorus(tmp_path, command), "SECRET_KEY")
    assert_one_line_refusal(chorus(tmp_path, command, SECRET_KEY="short"), "SECRET_KEY")


@pytest.mark.parametrize("command", ["run", "migrate"])
@pytest.mark.parametrize(
    "weak",
    ["test-secret-not-real-0123456789", "x" * 40, "your-secret-key-here-0192837465019283"],
)
def test_a_short_or_weak_secret_key_is_refused_with_the_generate_command(
    tmp_path: Path, command: str, weak: str
) -> None:
    result = chorus(tmp_path, command, SECRET_KEY=weak)
    assert_one_line_refusal(result, "SECRET_KEY")
    assert "secrets.token_urlsafe(32)" in result.stderr
    assert weak not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("WEB_PORT", "abc"),
        ("WEB_PORT", "70000"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("PUBLIC_URL", "example.org"),
        ("LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "mysql://localhost/chorus"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(
    tmp_path: Path, setting: str, value: str
) -> None:
    result = chorus(tmp_path, "run", SECRET_KEY=SECRET, **{setting: value})
    assert_one_line_refusal(result, setting)


def test_the_console_refuses_a_malformed_setting_too(tmp_path: Path) -> None:
    assert_one_line_refusal(chorus(tmp_path, "console", MIN_LEAD_MINUTES="-5"), "MIN_LEAD_MINUTES")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TELEGRAM_BOT_TOKEN": "123456:test-token-not-real"}, "TELEGRAM_MODERATION_CHAT_ID"),
        ({"DISCORD_BOT_TOKEN": "discord-token-not-real"}, "DISCORD_MODERATION_CHANNEL_ID"),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:test-token-not-real", "MODERATION_IN_PRIVATE": "true"},
            "TELEGRAM_MODERATOR_IDS",
        ),
        (
            {"DISCORD_BOT_TOKEN": "discord-token-not-real", "MODERATION_IN_PRIVATE": "true"},
            "DISCORD_MODERATOR_IDS",
        ),
    ],
)
def test_a_chat_front_end_without_moderators_refuses_to_run(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    database = tmp_path / "chorus.sqlite3"
    result = chorus(
        tmp_path, "run", SECRET_KEY=SECRET, DATABASE_URL=f"sqlite:///{database}", **settings
    )
    assert_one_line_refusal(result, named)
    assert "test-token-not-real" not in result.stderr
    assert not database.exists()  # refused before anything was opened


@pytest.mark.parametrize(
    "moderation",
    [
        {"TELEGRAM_MODERATION_CHAT_ID": "-100123"},
        {"MODERATION_IN_PRIVATE": "true", "TELEGRAM_MODERATOR_IDS": "111,222"},
    ],
)
def test_a_front_end_that_cannot_start_is_one_line_and_exit_1(
    tmp_path: Path, moderation: dict[str, str]
) -> None:
    result = chorus(
        tmp_path,
        "run",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.sqlite3'}",
        WEB_PORT="0",
        TELEGRAM_BOT_TOKEN="123456:test-token-not-real",
        TELEGRAM_API_URL="http://127.0.0.1:9",  # nothing listens there
        **moderation,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("chorus: ") and "Telegram" in last, result.stderr
    assert "test-token-not-real" not in result.stderr


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_until_a_signal_then_stops_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=chorus_env(
            tmp_path,
            SECRET_KEY=SECRET,
            DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.sqlite3'}",
            WEB_PORT="0",
        ),
        cwd=tmp_path,
    )
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.daemon = True
    watchdog.start()
    assert process.stderr is not None
    logged: list[str] = []
    for line in process.stderr:
        logged.append(line)
        if "chorus is running" in line:
            break
    log = "".join(logged)
    assert "chorus is running" in log, log
    assert "storage ready" in log and "scheduler started" in log, log
    assert "maintenance started" in log, log
    listening = LISTENING_RE.search(log)
    assert listening, log
    url = f"http://{listening.group(1)}:{listening.group(2)}/healthz"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert response.status == 200
        assert response.read().decode().strip() == "ok"

    process.send_signal(stop_signal)
    _, rest = process.communicate(timeout=TIMEOUT)
    watchdog.cancel()
    log += rest
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert SECRET not in log
    stops = [line.split(": ", 1)[-1] for line in log.splitlines() if line.endswith("stopped")]
    assert stops == [  # the reverse of the start order
        "blast worker stopped",  # its thread, on an SQLite file (BLAST_THREAD)
        "maintenance stopped",
        "scheduler stopped",
        "leadership stopped",
        "web server stopped",
        "blast queue stopped",
        "bluesky network stopped",  # on: the default PUBLIC_URL is a loopback address
        "mastodon network stopped",
        "storage stopped",
        "chorus stopped",
    ]
