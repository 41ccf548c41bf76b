"""The operations settings: defaults, and one clear line for each bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import known_secrets
from bot.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper() in {field.upper() for field in Settings.model_fields}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_text_logs_open_metrics_two_second_probe() -> None:
    settings = load_settings()
    assert settings.log_format == "text"
    assert settings.metrics_token is None
    assert settings.readiness_timeout_seconds == 2.0


def test_a_blank_metrics_token_leaves_metrics_open_and_a_set_one_is_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "")
    assert load_settings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "metrics-token-not-real-0123456789")
    settings = load_settings()
    assert "metrics-token-not-real-0123456789" in known_secrets(settings)
    assert "metrics-token-not-real" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("LOG_FORMAT", "yaml", "'text' or 'json'"),
        ("READINESS_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("READINESS_TIMEOUT_SECONDS", "600", "less than or equal to 60"),
        ("READINESS_TIMEOUT_SECONDS", "soon", "valid number"),
    ],
)
def test_a_bad_value_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"Setting {name}: ")
    assert words in str(caught.value)
