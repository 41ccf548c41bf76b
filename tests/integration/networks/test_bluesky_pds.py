"""``BlueskyPds.create_record`` over real HTTP against the fake PDS: DPoP-bound writes,
nonce rotation, refresh on expiry (known and unknown), rate limits, existing record keys
and lost grants."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.atproto_pds import (
    PdsAuthRevoked,
    PdsFailure,
    PdsRateLimited,
    PdsRecordExists,
)
from adapters.networks.bluesky_oauth import BlueskyOAuth
from adapters.networks.bluesky_pds import BlueskyPds
from bot.domain.account import SocialAccount
from bot.domain.networks import DeliveryMode
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld
from tests.integration.networks.bluesky_kit import link, make_linker
from tests.integration.networks.conftest import OWNER

POST = "app.bsky.feed.post"


def _record(text: str = "Hello #chorus") -> dict[str, object]:
    return {"$type": POST, "text": text, "createdAt": "2026-12-02T00:00:00.000Z", "langs": ["en"]}


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


@pytest.fixture
def pds(linker: BlueskyOAuth, clock: FakeClock) -> BlueskyPds:
    return BlueskyPds(linker, clock)


async def _account(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> SocialAccount:
    world.add("poster.test")
    profile = await link(linker, "poster.test")
    stored = await repo.save_account(
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
    assert stored.id is not None
    reloaded = await repo.get_account(stored.id)  # the key came back out of storage
    assert reloaded is not None and reloaded.tokens.binding == profile.tokens.binding
    return reloaded


@pytest.fixture
async def account(
    world: AtprotoWorld, linker: BlueskyOAuth, repo: Repository, clock: FakeClock
) -> SocialAccount:
    return await _account(world, linker, repo, clock)


async def test_a_record_is_created_with_a_dpop_bound_token_after_one_nonce_request(
    world: AtprotoWorld, pds: BlueskyPds, account: SocialAccount
) -> None:
    created = await pds.create_record(account, collection=POST, rkey="3kabc", record=_record())
    assert created.uri == f"at://{account.remote_id}/{POST}/3kabc"
    assert world.pds.records[created.uri].value["text"] == "Hello #chorus"
    # the first call had no PDS nonce: told to use one, then through; the next needs none
    assert world.pds.dpop.refusals == ["nonce missing, unknown or already used"]
    await pds.create_record(account, collection=POST, rkey="3kabd", record=_record())
    assert len(world.pds.dpop.refusals) == 1
    sent = world.pds.seen("POST", "/xrpc/com.atproto.repo.createRecord")[-1]
    assert sent.headers["Authorization"].startswith("DPoP test-access-")


async def test_the_same_record_key_twice_says_the_record_exists(
    world: AtprotoWorld, pds: BlueskyPds, account: SocialAccount
) -> None:
    first = await pds.create_record(account, collection=POST, rkey="3kdup", record=_record())
    with pytest.raises(PdsRecordExists) as exists:
        await pds.create_record(account, collection=POST, rkey="3kdup", record=_record("again"))
    assert exists.value.uri == first.uri
    assert world.pds.records[first.uri].value["text"] == "Hello #chorus"


async def test_tokens_near_expiry_are_refreshed_first_and_stored(
    world: AtprotoWorld,
    pds: BlueskyPds,
    account: SocialAccount,
    repo: Repository,
    clock: FakeClock,
) -> None:
    clock.advance(timedelta(seconds=3600 - 30))
    await pds.create_record(account, collection=POST, rkey="3kref", record=_record())
    assert len(world.auth.seen("POST", "/oauth/token")) >= 3  # code (+nonce) and refresh
    assert account.id is not None
    stored = await repo.get_account(account.id)
    assert stored is not None and stored.tokens.access_token != account.tokens.access_token
    # a caller still holding the old account gets the new tokens, not a spent refresh
    clock.advance(timedelta(seconds=60))
    await pds.create_record(account, collection=POST, rkey="3kre2", record=_record())
    assert not any(g.revoked for g in world.auth.grants)


async def test_callers_together_share_one_refresh_and_old_copies_stay_usable(
    world: AtprotoWorld,
    pds: BlueskyPds,
    linker: BlueskyOAuth,
    account: SocialAccount,
    clock: FakeClock,
) -> None:
    clock.advance(timedelta(seconds=3600 - 30))
    refreshed, created = await asyncio.gather(
        linker.refresh(account),
        pds.create_record(account, collection=POST, rkey="3kboth", record=_record()),
    )
    assert created.uri in world.pds.records
    assert len(world.auth.spent_refresh) == 1  # one refresh for both
    assert not any(g.revoked for g in world.auth.grants)  # no refresh token was spent twice
    clock.advance(timedelta(seconds=3600 - 30))
    await linker.refresh(account)  # a second generation; the caller still holds the first
    await pds.create_record(account, collection=POST, rkey="3kold", record=_record())
    assert not any(g.revoked for g in world.auth.grants)
    assert refreshed.access_token != account.tokens.access_token


async def test_a_token_the_pds_says_expired_is_refreshed_once_and_the_write_retried(
    world: AtprotoWorld, pds: BlueskyPds, account: SocialAccount
) -> None:
    world.auth.expire_all()  # the client still believes its token valid
    created = await pds.create_record(account, collection=POST, rkey="3kexp", record=_record())
    assert created.uri in world.pds.records


async def test_rate_limited_says_when_to_try_again(
    world: AtprotoWorld, pds: BlueskyPds, account: SocialAccount, clock: FakeClock
) -> None:
    reset = int(clock.now().timestamp()) + 120
    world.pds.fail(
        429,
        path="/xrpc/com.atproto.repo.createRecord",
        headers={"ratelimit-reset": str(reset), "ratelimit-remaining": "0"},
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
    )
    with pytest.raises(PdsRateLimited) as limited:
        await pds.create_record(account, collection=POST, rkey="3krl", record=_record())
    assert limited.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert not world.pds.records


async def test_a_revoked_grant_means_linking_again(
    world: AtprotoWorld, pds: BlueskyPds, linker: BlueskyOAuth, account: SocialAccount
) -> None:
    await linker.revoke(account)
    with pytest.raises(PdsAuthRevoked):
        await pds.create_record(account, collection=POST, rkey="3krev", record=_record())


async def test_tap_tokens_cannot_post(
    world: AtprotoWorld, clock: FakeClock, repo: Repository
) -> None:
    linker = make_linker(world, clock, repo, mode=DeliveryMode.TAP)
    try:
        account = await _account(world, linker, repo, clock)
        with pytest.raises(PdsAuthRevoked):  # 403: this grant may not write
            await BlueskyPds(linker, clock).create_record(
                account, collection=POST, rkey="3ktap", record=_record()
            )
    finally:
        await linker.aclose()
    assert not world.pds.records


async def test_a_pds_that_cannot_be_reached_is_a_failure(
    world: AtprotoWorld, pds: BlueskyPds, account: SocialAccount
) -> None:
    await world.pds.close()
    with pytest.raises(PdsFailure) as failed:
        await pds.create_record(account, collection=POST, rkey="3kdown", record=_record())
    assert not isinstance(failed.value, PdsAuthRevoked | PdsRateLimited | PdsRecordExists)
