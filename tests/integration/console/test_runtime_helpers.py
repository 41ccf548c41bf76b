"""The runtime's small helpers the console and ``chorus run`` share."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.runtime import console_secret, redact_url
from bot.settings import Settings, SettingsError


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


def test_the_console_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    first = console_secret(settings(tmp_path))
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert console_secret(settings(tmp_path)) == first


def test_secret_key_wins_over_the_file_and_must_be_long_enough(tmp_path: Path) -> None:
    given = "test-secret-not-real-0123456789abcdef"
    assert console_secret(settings(tmp_path, secret_key=given)) == given
    assert not (tmp_path / "data" / "secret_key").exists()
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        console_secret(settings(tmp_path, secret_key="short"))


def test_a_damaged_secret_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret_key"
    path.parent.mkdir()
    path.write_text("\n")
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        console_secret(settings(tmp_path))
    assert path.read_text() == "\n"  # tokens encrypted with the old key stay readable later


def test_database_urls_are_logged_without_passwords() -> None:
    url = "postgresql://chorus:hunter2-not-real@db.example.org:5432/chorus"
    assert redact_url(url) == "postgresql://db.example.org:5432/chorus"
    assert redact_url("sqlite:///data/chorus.sqlite3") == "sqlite:///data/chorus.sqlite3"
