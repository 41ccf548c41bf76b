"""ES256 keys, compact JWTs, DPoP proofs and client assertions for AT Protocol OAuth.

AT Protocol OAuth binds every token to a key the client holds (DPoP, RFC 9449): each
request carries a fresh proof signed with that key, naming the method and URL, the server's
latest nonce and, at a resource server, a hash of the access token. A confidential client
also proves who it is with a JWT signed by its own key (``private_key_jwt``, RFC 7523).
Both are ES256 compact JWS; ``cryptography`` (already a dependency) signs them, so the
signing stays small, readable and testable against our own fake server.

Private keys travel as JWK JSON text: the DPoP key of a grant is stored with its tokens
(``TokenSet.binding``, encrypted at rest); nothing here logs a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_COORDINATE = 32  # P-256: 32-byte coordinates and signature halves


class UnreadableKey(ValueError):
    """A private key given to Chorus cannot be read as an ES256 (P-256) key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(_COORDINATE, "big")


@dataclass(frozen=True)
class EcKey:
    """A P-256 private key with its key id; ``repr`` shows only the id."""

    private: ec.EllipticCurvePrivateKey
    kid: str

    def __repr__(self) -> str:
        return f"EcKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> EcKey:
        return cls(ec.generate_private_key(ec.SECP256R1()), secrets.token_urlsafe(8))

    @classmethod
    def from_text(cls, text: str) -> EcKey:
        """A key from a private JWK (JSON) or a PEM, as a setting or a stored grant holds it."""
        text = text.strip()
        try:
            if text.startswith("{"):
                return cls.from_jwk(json.loads(text))
            private = load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, KeyError) as exc:
            raise UnreadableKey("not a P-256 private key (JWK or PEM)") from exc
        if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(
            private.curve, ec.SECP256R1
        ):
            raise UnreadableKey("not a P-256 private key (JWK or PEM)")
        return cls(private, thumbprint(public_jwk_of(private.public_key()))[:16])

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> EcKey:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" not in jwk:
            raise UnreadableKey("not a P-256 private JWK")
        numbers = ec.EllipticCurvePrivateNumbers(
            int.from_bytes(b64url_decode(jwk["d"]), "big"),
            ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64url_decode(jwk["x"]), "big"),
                int.from_bytes(b64url_decode(jwk["y"]), "big"),
                ec.SECP256R1(),
            ),
        )
        private = numbers.private_key()
        kid = jwk.get("kid") or thumbprint(public_jwk_of(private.public_key()))[:16]
        return cls(private, str(kid))

    def private_jwk(self) -> dict[str, str]:
        jwk = self.public_jwk()
        jwk["d"] = b64url(_int_bytes(self.private.private_numbers().private_value))
        return jwk

    def to_text(self) -> str:
        """The private JWK as compact JSON (for storing with a grant, encrypted)."""
        return json.dumps(self.private_jwk(), separators=(",", ":"), sort_keys=True)

    def public_jwk(self) -> dict[str, str]:
        jwk = public_jwk_of(self.private.public_key())
        jwk.update({"kid": self.kid, "alg": "ES256", "use": "sig"})
        return jwk

    def sign_jwt(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """A compact ES256 JWS of ``claims`` (``alg`` set here)."""
        head = b64url(json.dumps({**header, "alg": "ES256"}, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{head}.{body}".encode("ascii")
        r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{head}.{body}.{b64url(_int_bytes(r) + _int_bytes(s))}"


def public_jwk_of(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(_int_bytes(numbers.x)),
        "y": b64url(_int_bytes(numbers.y)),
    }


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 thumbprint of an EC public JWK (base64url SHA-256)."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":")
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def access_token_hash(token: str) -> str:
    """The ``ath`` claim: base64url SHA-256 of the access token."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


def verify_jwt(
    token: str, public: ec.EllipticCurvePublicKey
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact ES256 JWS signed by ``public``; ValueError if not."""
    try:
        head, body, signature = token.split(".")
        raw = b64url_decode(signature)
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a compact JWS") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    if header.get("alg") != "ES256" or len(raw) != 2 * _COORDINATE:
        raise ValueError("not ES256")
    r = int.from_bytes(raw[:_COORDINATE], "big")
    s = int.from_bytes(raw[_COORDINATE:], "big")
    try:
        public.verify(
            encode_dss_signature(r, s), f"{head}.{body}".encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature as exc:
        raise ValueError("bad signature") from exc
    return header, claims


def public_key_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey:
    """The public key of an EC P-256 JWK; ValueError for anything else (or a private one)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("not a P-256 JWK")
    if "d" in jwk:
        raise ValueError("a private key in a public place")
    return ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(str(jwk["x"])), "big"),
        int.from_bytes(b64url_decode(str(jwk["y"])), "big"),
        ec.SECP256R1(),
    ).public_key()


def dpop_proof(
    key: EcKey,
    *,
    method: str,
    url: str,
    nonce: str | None,
    access_token: str | None = None,
    now: float | None = None,
) -> str:
    """A DPoP proof for one request (``htu`` without query or fragment)."""
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method.upper(),
        "htu": url.split("?", 1)[0].split("#", 1)[0],
        "iat": int(time.time() if now is None else now),
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    public = public_jwk_of(key.private.public_key())
    return key.sign_jwt({"typ": "dpop+jwt", "jwk": public}, claims)


def client_assertion(
    key: EcKey, *, client_id: str, audience: str, now: float | None = None
) -> str:
    """A ``private_key_jwt`` client assertion for the authorization server ``audience``."""
    issued = int(time.time() if now is None else now)
    return key.sign_jwt(
        {"kid": key.kid, "typ": "JWT"},
        {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": secrets.token_urlsafe(16),
            "iat": issued,
            "exp": issued + 60,
        },
    )


GENERATE_COMMAND = (
    'python -c "from adapters.networks.atproto_dpop import EcKey; '
    'print(EcKey.generate().to_text())"'
)
