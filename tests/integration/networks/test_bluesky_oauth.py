"""Linking a Bluesky account over real HTTP against the loopback AT Protocol fakes: the
identity chain, PAR + PKCE + DPoP with nonces, the confidential and the loopback client, the
checks after the exchange, refresh and revocation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.networks.atproto_dpop import EcKey
from adapters.networks.bluesky_oauth import BLUESKY, BlueskyOAuth, Grant
from adapters.networks.instances import is_public
from bot.domain.account import SocialAccount
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.networks import DeliveryMode, LengthRule, NetworkSpec
from bot.ports import NetworkFailure, Repository
from bot.registry import NetworkRegistry
from bot.services.revocations import Revocations
from bot.settings import Settings, SettingsError
from bot.testing.clock import FakeClock
from tests.fakes.atproto_auth import FakeAuthServer
from tests.fakes.atproto_pds import FakePds
from tests.fakes.atproto_world import AtprotoWorld
from tests.integration.networks.bluesky_kit import (
    bluesky_settings,
    link,
    make_linker,
    start,
)
from tests.integration.networks.conftest import OWNER


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld(now=clock.now) as fakes:
        yield fakes


@pytest.fixture
async def linker(
    world: AtprotoWorld, clock: FakeClock, repo: Repository
) -> AsyncIterator[BlueskyOAuth]:
    made = make_linker(world, clock, repo)
    yield made
    await made.aclose()


@pytest.mark.parametrize("confidential", [True, False], ids=["confidential", "loopback"])
async def test_a_whole_link_gives_dpop_bound_tokens_for_the_typed_handle(
    world: AtprotoWorld, clock: FakeClock, confidential: bool
) -> None:
    alice = world.add("alice.test", followers=42)
    linker = make_linker(world, clock, confidential=confidential)
    try:
        profile = await link(linker, "@Alice.Test")
    finally:
        await linker.aclose()

    assert (profile.network, profile.remote_id, profile.handle) == (
        BLUESKY,
        alice.did,
        "alice.test",
    )
    assert profile.followers == 42
    assert profile.instance == "127.0.0.1"
    assert profile.tokens.scope.split() == ["atproto", "repo:app.bsky.feed.post?action=create"]
    grant = Grant.of(profile.tokens)
    assert (grant.did, grant.pds, grant.issuer) == (alice.did, world.pds.url, world.auth.issuer)
    assert "key" not in repr(profile.tokens) and "test-access" not in repr(profile.tokens)
    pars = world.auth.seen("POST", "/oauth/par")
    assert len(pars) == 2
    assert all(("client_assertion=" in par.body) is confidential for par in pars)
    assert all("code_challenge_method=S256" in par.body for par in pars)
    # the first PAR carried no nonce and was told to use one: one refusal, then through
    assert world.auth.refusals == ["use_dpop_nonce: nonce missing, unknown or already used"]


async def test_tap_asks_for_the_identity_only(world: AtprotoWorld, clock: FakeClock) -> None:
    world.add("tess.test")
    linker = make_linker(world, clock, mode=DeliveryMode.TAP)
    try:
        profile = await link(linker, "tess.test")
    finally:
        await linker.aclose()
    assert profile.tokens.scope == "atproto"
    assert "scope=atproto&" in world.auth.seen("POST", "/oauth/par")[-1].body


async def test_client_documents_name_the_callback_and_the_public_key(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    documents = linker.documents()
    metadata, jwks = documents["client-metadata"], documents["jwks"]
    assert metadata["client_id"] == "https://chorus.example.org/oauth/bluesky/client-metadata.json"
    assert metadata["redirect_uris"] == ["https://chorus.example.org/oauth/bluesky/callback"]
    assert metadata["token_endpoint_auth_method"] == "private_key_jwt"
    assert metadata["dpop_bound_access_tokens"] is True
    assert metadata["jwks_uri"] == "https://chorus.example.org/oauth/bluesky/jwks.json"
    [key] = jwks["keys"]
    assert "d" not in key and key["kty"] == "EC" and key["crv"] == "P-256"


async def test_the_loopback_client_publishes_nothing(
    world: AtprotoWorld, clock: FakeClock
) -> None:
    linker = make_linker(world, clock, confidential=False)
    assert linker.documents() == {}
    assert linker.client_id.startswith("http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A9")
    await linker.aclose()


def test_a_public_deployment_without_a_key_is_told_how_to_make_one(world: AtprotoWorld) -> None:
    settings = Settings(_env_file=None, public_url="https://chorus.example.org")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match=r"BLUESKY_CLIENT_KEY.*EcKey\.generate"):
        BlueskyOAuth(settings, mode=DeliveryMode.AUTO)
    bad = Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://chorus.example.org",
        bluesky_client_key="not a key",
    )
    with pytest.raises(SettingsError, match="not a private P-256 key") as raised:
        BlueskyOAuth(bad, mode=DeliveryMode.AUTO)
    assert "not a key" not in str(raised.value)
    named = Settings(_env_file=None, public_url="http://localhost:8080")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match=r"127\.0\.0\.1"):
        BlueskyOAuth(named, mode=DeliveryMode.AUTO)


# ---- what the supporter typed -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "web.bluesky.instance_missing"),
        ("not a handle", "web.bluesky.handle_invalid"),
        ("localhost", "web.bluesky.handle_invalid"),
        ("127.0.0.1", "web.bluesky.handle_invalid"),
        ("alice.123", "web.bluesky.handle_invalid"),
        ("did:plc:short", "web.bluesky.handle_invalid"),
        ("nobody.test", "web.bluesky.handle_unknown"),
    ],
)
async def test_a_bad_handle_gets_a_clear_message(
    linker: BlueskyOAuth, typed: str, key: str
) -> None:
    with pytest.raises(DomainError) as refused:
        await linker.authorization_url(state="s", redirect_uri=linker.redirect_uri, instance=typed)
    assert refused.value.key == key


async def test_a_handle_whose_did_does_not_name_it_back_is_refused(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    bob = world.add("bob.test")
    world.identity.handles["mallory.test"] = bob.did  # mallory's domain claims bob's DID
    with pytest.raises(InvalidInput) as refused:
        await linker.authorization_url(
            state="s", redirect_uri=linker.redirect_uri, instance="mallory.test"
        )
    assert refused.value.key == "web.bluesky.handle_unknown"


async def test_a_handle_published_only_in_dns_is_asked_of_the_appview(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    dina = world.add("dina.test")
    dina.dns_only = True
    profile = await link(linker, "dina.test")
    assert profile.remote_id == dina.did
    assert world.identity.seen("GET", "/xrpc/com.atproto.identity.resolveHandle")


async def test_a_did_may_be_typed_instead_of_a_handle(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    carl = world.add("carl.test")
    profile = await link(linker, carl.did)
    assert (profile.remote_id, profile.handle) == (carl.did, "carl.test")


async def test_a_handle_on_a_private_address_is_refused(
    world: AtprotoWorld, clock: FakeClock
) -> None:
    world.add("inside.test")
    linker = make_linker(world, clock, address_rule=is_public)
    try:
        with pytest.raises(InvalidInput) as refused:
            await linker.authorization_url(
                state="s", redirect_uri=linker.redirect_uri, instance="inside.test"
            )
    finally:
        await linker.aclose()
    assert refused.value.key == "web.bluesky.handle_private"
    assert not world.identity.requests  # nothing was sent


async def test_a_did_document_naming_a_pds_with_a_path_is_refused(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("odd.test", pds=f"{world.pds.url}/inner?x=1")
    with pytest.raises(DomainError) as refused:
        await linker.authorization_url(
            state="s", redirect_uri=linker.redirect_uri, instance="odd.test"
        )
    assert refused.value.key == "web.bluesky.misbehaved"


async def test_a_server_whose_metadata_names_another_issuer_is_refused(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("eve.test")
    world.auth.issuer_override = "https://elsewhere.example"
    with pytest.raises(DomainError) as refused:
        await linker.authorization_url(
            state="s", redirect_uri=linker.redirect_uri, instance="eve.test"
        )
    assert refused.value.key == "web.bluesky.misbehaved"


# ---- the way back -------------------------------------------------------------------------


async def test_a_callback_naming_another_issuer_is_refused_before_any_exchange(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("fay.test")
    world.auth.redirect_issuer = "https://attacker.example"
    returned, data = await start(linker, "fay.test")
    data["callback_issuer"] = returned["iss"]
    with pytest.raises(DomainError, match="authorisation_failed"):
        await linker.complete(code=returned["code"], redirect_uri=linker.redirect_uri, data=data)
    assert not world.auth.seen("POST", "/oauth/token")


async def test_a_callback_without_issuer_is_refused(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("gil.test")
    returned, data = await start(linker, "gil.test")
    with pytest.raises(DomainError, match="authorisation_failed"):
        await linker.complete(code=returned["code"], redirect_uri=linker.redirect_uri, data=data)


async def test_a_missing_pkce_verifier_is_refused_by_the_server(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("hal.test")
    returned, data = await start(linker, "hal.test")
    data["callback_issuer"] = returned["iss"]
    data["verifier"] = ""
    with pytest.raises(DomainError, match="authorisation_failed"):
        await linker.complete(code=returned["code"], redirect_uri=linker.redirect_uri, data=data)
    assert "invalid_grant: PKCE verifier missing or wrong" in world.auth.refusals
    assert not world.auth.grants


async def test_tokens_for_another_did_are_refused_and_revoked(
    world: AtprotoWorld, linker: BlueskyOAuth
) -> None:
    world.add("ivy.test")
    other = world.add("other.test")
    world.auth.sub_override = other.did
    with pytest.raises(DomainError, match="authorisation_failed"):
        await link(linker, "ivy.test")
    assert [g.revoked for g in world.auth.grants] == [True]


async def test_a_did_whose_pds_names_another_server_is_refused_and_revoked(
    world: AtprotoWorld, linker: BlueskyOAuth, clock: FakeClock
) -> None:
    jay = world.add("jay.test")
    async with FakeAuthServer(now=clock.now) as elsewhere:
        assert isinstance(elsewhere, FakeAuthServer)
        async with FakePds(elsewhere, now=clock.now) as other_pds:
            returned, data = await start(linker, "jay.test")
            world.identity.move(jay.did, other_pds.url)  # the DID now lives elsewhere
            data["callback_issuer"] = returned["iss"]
            with pytest.raises(DomainError, match="authorisation_failed"):
                await linker.complete(
                    code=returned["code"], redirect_uri=linker.redirect_uri, data=data
                )
    assert [g.revoked for g in world.auth.grants] == [True]


# ---- refresh and revocation ------------------------------------------------------------------


async def _stored(
    repo: Repository, linker: BlueskyOAuth, handle: str, clock: FakeClock
) -> SocialAccount:
    profile = await link(linker, handle)
    return await repo.save_account(
        SocialAccount(
            owner=OWNER,
            network=profile.network,
            instance=profile.instance,
            remote_id=profile.remote_id,
            handle=profile.handle,
            followers=profile.followers,
            tokens=profile.tokens,
            linked_at=clock.now(),
        )
    )


async def test_refresh_stores_new_tokens_and_spends_the_old(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> None:
    world.add("kim.test")
    account = await _stored(repo, linker, "kim.test", clock)
    clock.advance(timedelta(seconds=3000))  # the blast refreshes what would lapse by launch
    fresh = await linker.refresh(account)
    assert fresh.access_token != account.tokens.access_token
    assert fresh.binding == account.tokens.binding  # same key, same grant
    assert account.id is not None
    stored = await repo.get_account(account.id)
    assert stored is not None and stored.tokens == fresh
    with pytest.raises(NetworkFailure) as spent:  # single-use refresh tokens
        await linker.refresh_tokens(account.tokens)
    assert spent.value.outcome.kind.value == "revoked"


async def test_revoke_ends_the_grant_at_the_server(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> None:
    world.add("lou.test")
    account = await _stored(repo, linker, "lou.test", clock)
    await linker.revoke(account)
    assert [g.revoked for g in world.auth.grants] == [True]
    assert world.auth.token_of(account.tokens.access_token) is None
    assert all("client_assertion=" in r.body for r in world.auth.seen("POST", "/oauth/revoke"))


async def test_tokens_without_a_bound_key_cannot_be_used(linker: BlueskyOAuth) -> None:
    from bot.domain.account import TokenSet

    with pytest.raises(NetworkFailure) as failed:
        await linker.refresh_tokens(TokenSet("test-access-unbound", "test-refresh-unbound"))
    assert failed.value.outcome.kind.value == "revoked"


def test_a_grant_round_trips_through_its_binding_text() -> None:
    key = EcKey.generate()
    grant = Grant(
        key,
        "did:plc:" + "a" * 24,
        "https://pds.example",
        "https://as.example",
        "https://as.example/token",
        None,
    )
    from bot.domain.account import TokenSet

    again = Grant.of(TokenSet("t", binding=grant.to_text()))
    assert again.key.private_jwk() == key.private_jwk() and again.did == grant.did
    assert "d" not in repr(again) or key.private_jwk()["d"] not in repr(again)
    assert json.loads(grant.to_text())["iss"] == "https://as.example"


def test_settings_for_tests_are_loopback(world: AtprotoWorld) -> None:
    assert bluesky_settings(world, confidential=False).bluesky_allow_private_hosts


async def test_a_server_with_an_endpoint_elsewhere_is_refused(
    world: AtprotoWorld, clock: FakeClock
) -> None:
    world.add("moe.test")

    world.auth.metadata_changes = {"token_endpoint": "http://127.0.0.1:1/steal"}
    linker = make_linker(world, clock)
    try:
        with pytest.raises(DomainError) as refused:
            await linker.authorization_url(
                state="s", redirect_uri=linker.redirect_uri, instance="moe.test"
            )
    finally:
        await linker.aclose()
    assert refused.value.key == "web.bluesky.misbehaved"


async def test_an_oversized_did_document_is_given_up_on(
    world: AtprotoWorld, clock: FakeClock
) -> None:
    big = world.add("big.test")
    big.extra_handles = [f"h{i}.big.test" for i in range(200)]
    linker = make_linker(world, clock, max_body=2048)
    try:
        with pytest.raises(DomainError) as refused:
            await linker.authorization_url(
                state="s", redirect_uri=linker.redirect_uri, instance="big.test"
            )
    finally:
        await linker.aclose()
    assert refused.value.key == "web.bluesky.misbehaved"


async def test_a_queued_revocation_revokes_the_grant_with_its_bound_key(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> None:
    """As /forget and unpledge leave them: the tokens queued, the key with them."""
    world.add("ned.test")
    account = await _stored(repo, linker, "ned.test", clock)
    assert account.id is not None
    [queued] = await repo.release_tokens([account.id], clock.now(), unless_in_use=False)
    [pending] = await repo.pending_revocations([queued])
    assert pending.tokens.binding == account.tokens.binding
    registry = NetworkRegistry()
    spec = NetworkSpec(id=BLUESKY, order=3, length=LengthRule(limit=300, url_weight=None))
    registry.register(spec, linker, linker=linker)  # type: ignore[arg-type]
    revocations = Revocations(repo=repo, clock=clock, registry=registry)
    assert await revocations.retry_pending() == 1
    assert [g.revoked for g in world.auth.grants] == [True]
