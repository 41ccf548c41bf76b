"""The small pure pieces of the AT Protocol side: ES256 keys and JWTs, DPoP proofs, handle
and DID syntax, and which addresses a DID document or server metadata may name."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from adapters.networks.atproto_dpop import (
    EcKey,
    UnreadableKey,
    access_token_hash,
    b64url_decode,
    dpop_proof,
    public_key_from_jwk,
    verify_jwt,
)
from adapters.networks.atproto_identity import checked_origin, is_did, is_handle, normalise_handle
from bot.domain.errors import InvalidInput


def test_a_signed_jwt_verifies_with_the_public_key_only() -> None:
    key = EcKey.generate()
    token = key.sign_jwt({"typ": "JWT"}, {"sub": "me"})
    header, claims = verify_jwt(token, public_key_from_jwk(_public(key.public_jwk())))
    assert header["alg"] == "ES256" and claims == {"sub": "me"}
    with pytest.raises(ValueError, match="bad signature"):
        verify_jwt(token, EcKey.generate().private.public_key())
    with pytest.raises(ValueError):
        verify_jwt("not.a.jwt", key.private.public_key())


def test_a_key_round_trips_through_jwk_and_reads_pem() -> None:
    key = EcKey.generate()
    again = EcKey.from_text(key.to_text())
    assert again.private_jwk() == key.private_jwk() and again.kid == key.kid
    pem = key.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert EcKey.from_text(pem).public_jwk()["x"] == key.public_jwk()["x"]
    assert key.private_jwk()["d"] not in repr(key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        '{"kty": "RSA"}',
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
    ],
)
def test_anything_but_a_p256_private_key_is_refused(text: str) -> None:
    with pytest.raises(UnreadableKey):
        EcKey.from_text(text)


def test_a_p384_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    pem = other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    with pytest.raises(UnreadableKey):
        EcKey.from_text(pem)


def test_a_dpop_proof_names_the_request_and_binds_the_token() -> None:
    key = EcKey.generate()
    proof = dpop_proof(
        key,
        method="post",
        url="https://pds.example/xrpc/x?y=1#z",
        nonce="n1",
        access_token="tok",
        now=1000,
    )
    head = json.loads(b64url_decode(proof.split(".")[0]))
    assert head["typ"] == "dpop+jwt" and "d" not in head["jwk"]
    _, claims = verify_jwt(proof, public_key_from_jwk(head["jwk"]))
    assert claims["htm"] == "POST" and claims["htu"] == "https://pds.example/xrpc/x"
    assert (claims["nonce"], claims["iat"], claims["ath"]) == (
        "n1",
        1000,
        access_token_hash("tok"),
    )


def test_a_private_jwk_is_never_taken_as_a_public_one() -> None:
    with pytest.raises(ValueError, match="private"):
        public_key_from_jwk(EcKey.generate().private_jwk())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("alice.bsky.social", "alice.bsky.social"),
        ("@Alice.Bsky.Social", "alice.bsky.social"),
        ("  alice.example.com.  ", "alice.example.com"),
        ("at://alice.example.com", "alice.example.com"),
        ("https://bsky.app/profile/alice.example.com/post/1", "alice.example.com"),
        ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
        ("did:web:example.com", "did:web:example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_handles_are_read_as_people_type_them(typed: str, expected: str) -> None:
    assert normalise_handle(typed) == expected


@pytest.mark.parametrize(
    "typed", ["alice", "alice..example", "-a.example", "a.1x", "10.0.0.1", "did:key:z6Mk", "a b.c"]
)
def test_what_is_not_a_handle_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_handle(typed)


def test_handle_and_did_syntax() -> None:
    assert is_handle("a.co") and not is_handle("a." + "b" * 64 + ".co")
    assert is_did("did:plc:" + "a" * 24) and not is_did("did:plc:" + "a" * 23)
    assert not is_did("did:plc:" + "A" * 24)


@pytest.mark.parametrize(
    ("value", "private", "expected"),
    [
        ("https://pds.example", False, "https://pds.example"),
        ("https://pds.example/", False, "https://pds.example"),
        ("http://pds.example", False, None),
        ("http://127.0.0.1:8080", True, "http://127.0.0.1:8080"),
        ("https://pds.example/path", False, None),
        ("https://user:pw@pds.example", False, None),
        ("https://pds.example?x=1", False, None),
        ("https://pds.example#f", False, None),
        ("ftp://pds.example", True, None),
        (42, False, None),
    ],
)
def test_only_bare_origins_are_taken_from_documents(
    value: object, private: bool, expected: str | None
) -> None:
    assert checked_origin(value, allow_private=private) == expected


def _public(jwk: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in jwk.items() if k != "d"}
