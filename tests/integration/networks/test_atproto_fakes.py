"""The AT Protocol fakes are strict: each way a DPoP proof or a client assertion can be
wrong is refused, so the client's passing tests mean something. Requests are made by hand
here (plain aiohttp), one fault at a time, next to a control that passes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.networks.atproto_dpop import (
    ASSERTION_TYPE,
    EcKey,
    b64url,
    client_assertion,
    dpop_proof,
)
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld
from tests.integration.networks.bluesky_kit import CLIENT_KEY, follow_authorize, make_linker

CLIENT_ID = "https://chorus.example.org/oauth/bluesky/client-metadata.json"
REDIRECT = "https://chorus.example.org/oauth/bluesky/callback"


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld(now=clock.now) as fakes:
        linker = make_linker(fakes, clock)  # registers Chorus's client documents
        await linker.aclose()
        yield fakes


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Caller:
    """Builds PAR requests to the fake server, correct unless told otherwise."""

    def __init__(self, world: AtprotoWorld, http: aiohttp.ClientSession, clock: FakeClock):
        self.world = world
        self.http = http
        self.clock = clock
        self.key = EcKey.generate()
        self.client_key = EcKey.from_text(CLIENT_KEY)
        self.nonce: str | None = None

    def assertion(self, **claims: Any) -> str:
        if not claims:
            return client_assertion(
                self.client_key,
                client_id=CLIENT_ID,
                audience=self.world.auth.issuer,
                now=self.clock.now().timestamp(),
            )
        now = int(self.clock.now().timestamp())
        base = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": self.world.auth.issuer}
        base.update({"jti": b64url(bytes(8)) + str(now), "iat": now, "exp": now + 60})
        base.update(claims)
        return self.client_key.sign_jwt({"kid": self.client_key.kid}, base)

    def form(self, **changes: str) -> dict[str, str]:
        form = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "atproto",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        form.update(changes)
        return form

    def proof(self, **changes: Any) -> str:
        url = changes.pop("url", f"{self.world.auth.url}/oauth/par")
        method = changes.pop("method", "POST")
        nonce = changes.pop("nonce", self.nonce)
        return dpop_proof(
            changes.pop("key", self.key),
            method=method,
            url=url,
            nonce=nonce,
            access_token=changes.pop("access_token", None),
            now=changes.pop("now", self.clock.now().timestamp()),
        )

    async def par(
        self, proof: str | None = None, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"DPoP": proof if proof is not None else self.proof()}
        async with self.http.post(
            f"{self.world.auth.url}/oauth/par", data=form or self.form(), headers=headers
        ) as answer:
            self.nonce = answer.headers.get("DPoP-Nonce", self.nonce)
            return answer.status, await answer.json()

    async def primed(self) -> None:
        """Get a first nonce (the server refuses the nonce-less proof and hands one out)."""
        status, body = await self.par()
        assert (status, body["error"]) == (400, "use_dpop_nonce")


@pytest.fixture
async def caller(world: AtprotoWorld, http: aiohttp.ClientSession, clock: FakeClock) -> Caller:
    made = Caller(world, http, clock)
    await made.primed()
    return made


async def test_a_correct_par_passes(caller: Caller) -> None:
    status, body = await caller.par()
    assert status == 201 and body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")


async def test_a_reused_nonce_is_refused(caller: Caller) -> None:
    spent = caller.nonce
    assert (await caller.par())[0] == 201
    status, body = await caller.par(caller.proof(nonce=spent))
    assert (status, body["error"]) == (400, "use_dpop_nonce")


async def test_a_nonce_the_server_never_issued_is_refused(caller: Caller) -> None:
    status, body = await caller.par(caller.proof(nonce="made-up"))
    assert (status, body["error"]) == (400, "use_dpop_nonce")


def _tampered_signature(proof: str) -> str:
    head, body, signature = proof.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{body}.{flipped}"


def _resigned_header(caller: Caller, **header: Any) -> str:
    claims = {
        "jti": "j-" + str(id(header)),
        "htm": "POST",
        "htu": f"{caller.world.auth.url}/oauth/par",
        "iat": int(caller.clock.now().timestamp()),
        "nonce": caller.nonce,
    }
    return caller.key.sign_jwt(header, claims)


@pytest.mark.parametrize(
    ("fault", "description"),
    [
        ("bad_signature", "unreadable proof"),
        ("other_key_in_header", "unreadable proof"),
        ("private_key_in_header", "unreadable proof"),
        ("wrong_typ", "typ is not dpop+jwt"),
        ("wrong_htm", "htm does not match"),
        ("wrong_htu", "htu does not match"),
        ("old_iat", "iat out of range"),
    ],
)
async def test_a_wrong_dpop_proof_is_refused(caller: Caller, fault: str, description: str) -> None:
    public = {k: v for k, v in caller.key.public_jwk().items() if k in ("kty", "crv", "x", "y")}
    proofs = {
        "bad_signature": lambda: _tampered_signature(caller.proof()),
        "other_key_in_header": lambda: _resigned_header(
            caller, typ="dpop+jwt", jwk=EcKey.generate().public_jwk()
        ),
        "private_key_in_header": lambda: _resigned_header(
            caller, typ="dpop+jwt", jwk=caller.key.private_jwk()
        ),
        "wrong_typ": lambda: _resigned_header(caller, typ="JWT", jwk=public),
        "wrong_htm": lambda: caller.proof(method="GET"),
        "wrong_htu": lambda: caller.proof(url=f"{caller.world.auth.url}/oauth/token"),
        "old_iat": lambda: caller.proof(now=caller.clock.now().timestamp() - 600),
    }
    status, body = await caller.par(proofs[fault]())
    assert (status, body["error"]) == (400, "invalid_dpop_proof")
    assert body["error_description"].startswith(description)


async def test_a_replayed_proof_is_refused(caller: Caller) -> None:
    proof = caller.proof()
    assert (await caller.par(proof))[0] == 201
    status, body = await caller.par(proof)
    assert (status, body["error"]) == (400, "invalid_dpop_proof")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://attacker.example/client.json"}, "iss/sub is not the client"),
        ({"sub": "someone-else"}, "iss/sub is not the client"),
        ({"aud": "https://another-server.example"}, "aud is not this issuer"),
        ({"exp": 1}, "expired"),
    ],
)
async def test_a_wrong_client_assertion_is_refused(
    caller: Caller, claims: dict[str, Any], reason: str
) -> None:
    status, body = await caller.par(form=caller.form(client_assertion=caller.assertion(**claims)))
    assert (status, body["error"]) == (401, "invalid_client")
    assert reason in body["error_description"]


async def test_an_assertion_signed_by_another_key_or_replayed_is_refused(caller: Caller) -> None:
    stranger = EcKey.generate()
    forged = client_assertion(
        stranger,
        client_id=CLIENT_ID,
        audience=caller.world.auth.issuer,
        now=caller.clock.now().timestamp(),
    )
    status, body = await caller.par(form=caller.form(client_assertion=forged))
    assert (status, body["error"]) == (401, "invalid_client")
    once = caller.assertion()
    assert (await caller.par(form=caller.form(client_assertion=once)))[0] == 201
    status, body = await caller.par(form=caller.form(client_assertion=once))
    assert (status, body["error_description"]) == (401, "client assertion replayed")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
        ({"scope": "atproto transition:chat.bsky"}, "invalid_scope"),
        ({"client_assertion_type": ""}, "invalid_client"),
    ],
)
async def test_a_par_outside_the_rules_is_refused(
    caller: Caller, changes: dict[str, str], error: str
) -> None:
    status, body = await caller.par(form=caller.form(**changes))
    assert status in (400, 401) and body["error"] == error


async def test_the_code_exchange_wants_the_par_key_and_the_right_verifier(
    caller: Caller, world: AtprotoWorld
) -> None:
    world.add("zed.test")
    status, body = await caller.par(form=caller.form(login_hint="zed.test"))
    assert status == 201
    returned = await follow_authorize(
        f"{world.auth.url}/oauth/authorize?client_id={CLIENT_ID}&request_uri={body['request_uri']}"
    )
    assert returned["iss"] == world.auth.issuer
    token_url = f"{world.auth.url}/oauth/token"

    async def exchange(key: EcKey, verifier: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": caller.assertion(),
        }
        proof = caller.proof(key=key, url=token_url)
        async with caller.http.post(token_url, data=form, headers={"DPoP": proof}) as answer:
            caller.nonce = answer.headers.get("DPoP-Nonce", caller.nonce)
            return dict(await answer.json())

    # the RFC 7636 example pair: the challenge above is this verifier's
    good = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    answer = await exchange(EcKey.generate(), good)
    assert answer["error"] == "invalid_dpop_proof"  # another key than the PAR's; code spent
    answer = await exchange(caller.key, good)
    assert answer["error"] == "invalid_grant"  # a code is good once


async def test_the_pds_wants_the_token_bound_proof(world: AtprotoWorld, clock: FakeClock) -> None:
    from tests.integration.networks.bluesky_kit import link

    world.add("pat.test")
    linker = make_linker(world, clock)
    try:
        profile = await link(linker, "pat.test")
    finally:
        await linker.aclose()
    from adapters.networks.bluesky_oauth import Grant

    grant = Grant.of(profile.tokens)
    url = f"{world.pds.url}/xrpc/com.atproto.repo.createRecord"
    body = json.dumps(
        {
            "repo": grant.did,
            "collection": "app.bsky.feed.post",
            "rkey": "r1",
            "record": {"text": "x"},
        }
    )
    token = profile.tokens.access_token

    async with aiohttp.ClientSession() as http:

        async def create(
            proof_token: str | None, key: EcKey, nonce: str | None
        ) -> tuple[int, str, str | None]:
            proof = dpop_proof(
                key,
                method="POST",
                url=url,
                nonce=nonce,
                access_token=proof_token,
                now=clock.now().timestamp(),
            )
            headers = {
                "Authorization": f"DPoP {token}",
                "DPoP": proof,
                "Content-Type": "application/json",
            }
            async with http.post(url, data=body, headers=headers) as answer:
                return (
                    answer.status,
                    answer.headers.get("WWW-Authenticate", ""),
                    answer.headers.get("DPoP-Nonce"),
                )

        status, challenge, nonce = await create(token, grant.key, None)
        assert status == 401 and 'error="use_dpop_nonce"' in challenge
        status, challenge, nonce = await create("another-token", grant.key, nonce)
        assert status == 401 and "ath does not match" in challenge
        status, challenge, nonce = await create(token, EcKey.generate(), nonce)
        assert status == 401 and "proof key is not the token's" in challenge
        status, challenge, nonce = await create(token, grant.key, nonce)
        assert status == 200
