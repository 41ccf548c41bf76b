"""Which processes get a blast thread: an SQLite file does (the launch splits there too),
an in-memory database cannot (one connection), BLAST_THREAD=false or BLAST_WORKER=false
keep the blast in the main loop; PostgreSQL's queue is shared either way."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import blast_channel
from bot.settings import Settings


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "values", "channel"),
    [
        ("sqlite:///data/chorus.db", {}, "data/chorus.db"),
        ("sqlite:////srv/chorus.db", {}, "/srv/chorus.db"),
        ("sqlite:///:memory:", {}, None),
        ("sqlite:///data/chorus.db", {"blast_thread": False}, None),
        ("sqlite:///data/chorus.db", {"blast_worker": False}, None),
        ("postgresql://db/chorus", {}, None),
    ],
)
def test_the_blast_channel(url: str, values: dict[str, Any], channel: str | None) -> None:
    assert blast_channel(settings(**values), url) == channel


def test_the_blast_thread_is_on_by_default_and_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings().blast_thread is True
    monkeypatch.setenv("BLAST_THREAD", "false")
    assert settings().blast_thread is False
