"""Keys derived from SECRET_KEY: one encrypts stored tokens, one signs links.

Each purpose gets its own key through HKDF, so a leaked link signature says nothing
about the token key.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str) -> bytes:
    """32 bytes for ``purpose`` derived from ``secret``."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"chorus", info=purpose.encode()
    ).derive(secret.encode())


class TokenCipher:
    """Encrypts tokens at rest (Fernet: AES-128-CBC with HMAC-SHA256)."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, "token-encryption")))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored token cannot be decrypted: was SECRET_KEY changed?") from exc
