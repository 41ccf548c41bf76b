"""Bluesky put together as the runtime does it (``build_bluesky``, ``build_networks``), over
real HTTP against the AT Protocol fakes: a linked account's post goes through
``BlueskyPds`` with DPoP proofs the fake PDS checks, a 429 is delayed and then posted, a
retry of the same pledge finds its post instead of posting twice, a refused record is
permanent, and the account's server is where the supporter revokes by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.networks.bluesky import BLUESKY_SPEC, BlueskyNetwork, record_key
from adapters.networks.bluesky_oauth import BlueskyOAuth
from adapters.networks.bluesky_setup import build_bluesky
from adapters.networks.bluesky_spec import BLUESKY
from bot.domain.account import SocialAccount
from bot.domain.networks import DeliveryMode
from bot.domain.outcomes import OutcomeKind
from bot.ports import Repository
from bot.runtime import build_networks
from bot.settings import Settings, SettingsError
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld
from tests.integration.networks.bluesky_kit import CLIENT_KEY, bluesky_settings, link
from tests.integration.networks.conftest import OWNER

CREATE = "/xrpc/com.atproto.repo.createRecord"
TEXT = "Café ☕ for all #Chorus https://example.org/campaign/42"


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld(now=clock.now) as fakes:
        yield fakes


@pytest.fixture
async def pair(
    world: AtprotoWorld, clock: FakeClock, repo: Repository
) -> AsyncIterator[tuple[BlueskyNetwork, BlueskyOAuth]]:
    settings = bluesky_settings(world, confidential=True)
    network, linker = build_bluesky(
        settings, repo, clock=clock, lookup=world.lookup, handle_url=world.handle_url
    )
    documents = linker.documents()
    world.auth.register_client(documents["client-metadata"], documents["jwks"])
    yield network, linker
    await network.aclose()


async def _linked(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> SocialAccount:
    world.add("speaker.test", followers=1234)
    profile = await link(linker, "speaker.test")
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


async def test_linking_counts_followers_from_the_appview_and_keeps_the_granting_host(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    assert account.followers == 1234
    assert await network.followers(account.remote_id) == 1234
    issuer_host = world.auth.issuer.split("//", 1)[1].split(":", 1)[0]
    assert account.instance == issuer_host  # the host that granted the tokens
    assert BLUESKY_SPEC.revoke_page.format(instance=account.instance) == (
        f"https://{issuer_host}/account"
    )


async def test_a_post_goes_through_the_pds_with_facets_at_byte_offsets(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    outcome = await network.post(account, TEXT, "pledge-1")
    assert outcome.kind is OutcomeKind.POSTED
    rkey = record_key("pledge-1", bluesky_settings(world, confidential=True).public_url)
    uri = f"at://{account.remote_id}/app.bsky.feed.post/{rkey}"
    assert outcome.remote_id == uri
    record = world.pds.records[uri].value
    raw = TEXT.encode()
    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]["$type"]
        for f in record["facets"]
    }
    assert spans == {
        "#Chorus": "app.bsky.richtext.facet#tag",
        "https://example.org/campaign/42": "app.bsky.richtext.facet#link",
    }
    sent = world.pds.seen("POST", CREATE)[-1]
    assert sent.headers["Authorization"].startswith("DPoP ")
    assert "DPoP" in sent.headers  # a proof the fake checked (key, ath, nonce)
    # and it is read back from the AppView, as the tap mode and recovery do
    posts = await network.recent_posts(account, clock.now() - timedelta(minutes=1))
    assert [p.remote_id for p in posts] == [uri]


async def test_a_retry_of_the_same_pledge_posts_once(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    first = await network.post(account, TEXT, "pledge-7")
    again = await network.post(account, TEXT, "pledge-7")  # after a crash, say
    assert first.kind is again.kind is OutcomeKind.POSTED
    assert again.remote_id == first.remote_id
    assert len(world.pds.records) == 1


async def test_a_429_is_delayed_then_posted(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    reset = int(clock.now().timestamp()) + 300
    world.pds.fail(
        429,
        path=CREATE,
        headers={"ratelimit-reset": str(reset), "ratelimit-remaining": "0"},
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
    )
    limited = await network.post(account, TEXT, "pledge-9")
    assert limited.kind is OutcomeKind.RATE_LIMITED
    assert limited.retry_at == datetime.fromtimestamp(reset, UTC)
    assert not world.pds.records
    clock.advance(timedelta(seconds=300))
    posted = await network.post(account, TEXT, "pledge-9")
    assert posted.kind is OutcomeKind.POSTED
    assert len(world.pds.records) == 1


@pytest.mark.parametrize("error", ["InvalidRecord", "InvalidRequest"])
async def test_a_refused_record_is_permanent(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
    error: str,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    world.pds.fail(400, path=CREATE, body={"error": error, "message": "Record/text too long"})
    outcome = await network.post(account, TEXT, "pledge-3")
    assert outcome.kind is OutcomeKind.REJECTED
    assert error in outcome.reason


async def test_revoking_ends_the_grant_at_the_authorization_server(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    await network.revoke(account)
    assert all(g.revoked for g in world.auth.grants)
    outcome = await network.post(account, TEXT, "pledge-4")
    assert outcome.kind is OutcomeKind.REVOKED


# ---- the runtime's rule --------------------------------------------------------------


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_runtime_offers_bluesky_on_a_loopback_address_with_no_key(repo: Repository) -> None:
    registry = build_networks(_settings(public_url="http://127.0.0.1:8080"), repo)
    try:
        assert BLUESKY in registry.ids()
        assert registry.delivery_mode(BLUESKY) is DeliveryMode.AUTO
        assert BLUESKY in registry.linkers()
    finally:
        for adapter in registry.revokers().values():
            await adapter.aclose()  # type: ignore[attr-defined]


async def test_runtime_offers_bluesky_with_a_client_key_in_tap_mode(repo: Repository) -> None:
    settings = _settings(
        public_url="https://chorus.example.org",
        bluesky_client_key=CLIENT_KEY,
        bluesky_delivery="tap",
    )
    registry = build_networks(settings, repo)
    try:
        assert registry.delivery_mode(BLUESKY) is DeliveryMode.TAP
        linker = registry.linkers()[BLUESKY]
        assert linker.scope == "atproto"  # type: ignore[attr-defined]
    finally:
        for adapter in registry.revokers().values():
            await adapter.aclose()  # type: ignore[attr-defined]


async def test_runtime_leaves_bluesky_out_on_a_public_address_with_no_key(
    repo: Repository,
) -> None:
    registry = build_networks(_settings(public_url="https://chorus.example.org"), repo)
    try:
        assert BLUESKY not in registry.ids()
        assert registry.revoke_page(BLUESKY, "bsky.social") == "https://bsky.social/account"
    finally:
        for adapter in registry.revokers().values():
            await adapter.aclose()  # type: ignore[attr-defined]


async def test_runtime_refuses_localhost_without_a_key_saying_what_to_write(
    repo: Repository,
) -> None:
    with pytest.raises(SettingsError, match=r"127\.0\.0\.1"):
        build_networks(_settings(public_url="http://localhost:8080"), repo)


async def test_runtime_refuses_an_unreadable_client_key(repo: Repository) -> None:
    settings = _settings(public_url="https://chorus.example.org", bluesky_client_key="nope")
    with pytest.raises(SettingsError, match="BLUESKY_CLIENT_KEY"):
        build_networks(settings, repo)


async def test_posts_in_parallel_on_one_pds_all_go_through(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    accounts = []
    for n in range(8):
        world.add(f"crowd{n}.test")
        profile = await link(linker, f"crowd{n}.test")
        accounts.append(
            await repo.save_account(
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
        )
    outcomes = await asyncio.gather(
        *(network.post(a, TEXT, f"pledge-{n}") for n, a in enumerate(accounts))
    )
    assert {o.kind for o in outcomes} == {OutcomeKind.POSTED}
    assert len(world.pds.records) == len(accounts)


async def test_a_pds_refusing_nonce_after_nonce_is_a_passing_failure_not_a_revocation(
    world: AtprotoWorld,
    pair: tuple[BlueskyNetwork, BlueskyOAuth],
    repo: Repository,
    clock: FakeClock,
) -> None:
    network, linker = pair
    account = await _linked(world, linker, repo, clock)
    for _ in range(2):
        world.pds.fail(
            401,
            path=CREATE,
            headers={
                "WWW-Authenticate": 'DPoP error="use_dpop_nonce"',
                "DPoP-Nonce": world.pds.dpop.next_nonce(),
            },
            body={"error": "use_dpop_nonce", "message": "nonce"},
        )
    outcome = await network.post(account, TEXT, "pledge-5")
    assert outcome.kind is OutcomeKind.NETWORK_DOWN  # retried later with the same key
    assert (await network.post(account, TEXT, "pledge-5")).kind is OutcomeKind.POSTED
