""".env.example documents every setting, and only real ones, each with a comment."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_lists_every_setting_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    listed = {}
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            listed[match.group(1)] = index
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    for name, index in listed.items():
        above = index - 1
        while above >= 0 and re.match(r"^[A-Z][A-Z0-9_]*=", lines[above]):
            above -= 1  # settings that share one comment, such as WEB_HOST and WEB_PORT
        assert above >= 0 and lines[above].startswith("#"), f"{name} has no comment above it"


def test_env_example_holds_no_secret_values() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    secrets = ("SECRET_KEY", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "X_CLIENT_SECRET")
    secrets += ("TELEGRAM_WEBHOOK_SECRET",)
    for name in (*secrets, "BLUESKY_CLIENT_KEY"):
        assert re.search(rf"^{name}=$", text, re.M), f"{name} must be empty in the example"
