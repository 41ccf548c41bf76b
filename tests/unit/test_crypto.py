"""Token encryption at rest and the per-purpose keys derived from SECRET_KEY."""

from __future__ import annotations

import pytest

from bot.crypto import TokenCipher, derive_key

SECRET = "test-secret-not-real-0123456789abcdef"
OTHER = "another-secret-not-real-98765"
TOKEN = "test-token-not-real-é✓"


def test_round_trip() -> None:
    cipher = TokenCipher(SECRET)
    assert cipher.decrypt(cipher.encrypt(TOKEN)) == TOKEN
    assert TokenCipher(SECRET).decrypt(cipher.encrypt(TOKEN)) == TOKEN  # a restart


def test_ciphertext_differs_from_plaintext_and_between_calls() -> None:
    cipher = TokenCipher(SECRET)
    first, second = cipher.encrypt(TOKEN), cipher.encrypt(TOKEN)
    assert "test-token-not-real" not in first
    assert first != second  # a fresh IV each time


def test_wrong_key_is_refused_with_a_clear_error() -> None:
    stored = TokenCipher(SECRET).encrypt(TOKEN)
    with pytest.raises(ValueError, match="was SECRET_KEY changed"):
        TokenCipher(OTHER).decrypt(stored)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "gAAAAA" + "x" * 80])
def test_garbage_is_refused_with_the_same_clear_error(garbage: str) -> None:
    with pytest.raises(ValueError, match="cannot be decrypted"):
        TokenCipher(SECRET).decrypt(garbage)


def test_tampered_ciphertext_is_refused() -> None:
    stored = TokenCipher(SECRET).encrypt(TOKEN)
    flipped = stored[:20] + ("A" if stored[20] != "A" else "B") + stored[21:]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        TokenCipher(SECRET).decrypt(flipped)


def test_each_purpose_gets_its_own_key() -> None:
    assert derive_key(SECRET, "token-encryption") != derive_key(SECRET, "pledge-links")
    assert derive_key(SECRET, "pledge-links") == derive_key(SECRET, "pledge-links")
    assert derive_key(OTHER, "pledge-links") != derive_key(SECRET, "pledge-links")
    assert len(derive_key(SECRET, "x")) == 32
