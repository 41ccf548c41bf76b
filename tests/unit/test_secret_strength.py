"""A SECRET_KEY must be long and not obviously guessable; generated keys always pass."""

from __future__ import annotations

import secrets

import pytest

from bot.secret_strength import MIN_LENGTH, weakness


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "too short"),
        ("a" * (MIN_LENGTH - 1), "too short"),
        ("x" * 64, "too easy"),
        ("ab" * 20, "too easy"),
        ("0123456789" * 4, "too easy"),  # ten characters, but one chunk repeated
        ("abcdefgh" * 5, "too easy"),
        ("aabbaabbaabbccddaabbccddaabbccddaabb", "too easy"),  # four characters
        ("changeme" * 4, "too easy"),
        ("change-me-change-me-change-me-change-me", "too easy"),
        ("your-secret-key-here-0192837465019283", "placeholder"),
        ("CHANGE_ME_TO_A_LONG_RANDOM_STRING_PLEASE", None),  # "please" is not a placeholder
        ("replace-with-a-long-random-secret-key-here", "placeholder"),
        ("secretsecretsecretsecretsecretsecret", "too easy"),
    ],
)
def test_weak_keys_are_named(key: str, why: str | None) -> None:
    reason = weakness(key)
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason, reason


def test_generated_keys_and_the_test_fixture_pass() -> None:
    for _ in range(200):
        assert weakness(secrets.token_urlsafe(32)) is None
        assert weakness(secrets.token_hex(16)) is None
    assert weakness("test-secret-not-real-0123456789abcdef") is None
