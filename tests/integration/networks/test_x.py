"""The X adapter over real HTTP (aiohttp for OAuth, tweepy for the API) against the fake."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.networks.oauth import challenge_of
from adapters.networks.x import XNetwork
from bot.domain.account import FOLLOWERS_MAX
from bot.domain.errors import DomainError
from bot.domain.outcomes import OutcomeKind
from bot.ports import NetworkFailure, Repository
from bot.testing.clock import FakeClock
from tests.fakes.loopback import reset_in
from tests.fakes.pledge_site import free_port
from tests.fakes.x_api import FakeX
from tests.integration.networks.conftest import settings_for, stored_x_account

REDIRECT = "http://127.0.0.1:9/oauth/x/callback"


async def authorise(network: XNetwork) -> tuple[str, dict[str, object]]:
    """Run the authorize step against the fake; return the code and the kept data."""
    url, data = await network.authorization_url(
        state="state-1", redirect_uri=REDIRECT, instance=None
    )
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        location = response.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0], data


async def test_authorization_url_uses_pkce_s256(x_network: XNetwork) -> None:
    url, data = await x_network.authorization_url(state="s", redirect_uri=REDIRECT, instance=None)

    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"] == [challenge_of(str(data["verifier"]))]
    assert query["code_challenge_method"] == ["S256"]
    assert str(data["verifier"]) not in url
    assert query["scope"] == ["tweet.read users.read offline.access"]


async def test_auto_delivery_asks_for_tweet_write(fake_x: FakeX, repo: Repository) -> None:
    network = XNetwork(settings_for(fake_x, x_delivery="auto"), repo)
    try:
        url, _ = await network.authorization_url(state="s", redirect_uri=REDIRECT, instance=None)
    finally:
        network.close()

    assert "tweet.write" in parse_qs(urlsplit(url).query)["scope"][0].split()


async def test_complete_links_the_profile(
    x_network: XNetwork, fake_x: FakeX, clock: FakeClock
) -> None:
    fake_x.next_user = "frank"
    code, data = await authorise(x_network)

    profile = await x_network.complete(code=code, redirect_uri=REDIRECT, data=data)

    assert profile.handle == "frank" and profile.followers == 42
    assert profile.tokens.refresh_token is not None
    assert profile.tokens.expires_at == clock.now() + timedelta(seconds=7200)
    [me] = fake_x.seen("GET", "/2/users/me")
    assert me.query["user.fields"] == "public_metrics"


@pytest.mark.parametrize(
    ("reported", "linked"), [(2**63 - 1, FOLLOWERS_MAX), (-3, 0), ("lots", 0), (None, 0)]
)
async def test_followers_reported_by_x_are_validated_and_clamped(
    x_network: XNetwork, fake_x: FakeX, reported: object, linked: int
) -> None:
    fake_x.add_user("grace").followers = reported  # type: ignore[assignment]
    fake_x.next_user = "grace"
    code, data = await authorise(x_network)

    profile = await x_network.complete(code=code, redirect_uri=REDIRECT, data=data)

    assert profile.followers == linked


async def test_confidential_client_uses_basic_auth(fake_x: FakeX, repo: Repository) -> None:
    fake_x.client_secret = "test-secret-not-real"
    network = XNetwork(settings_for(fake_x, x_client_secret="test-secret-not-real"), repo)
    try:
        code, data = await authorise(network)
        profile = await network.complete(code=code, redirect_uri=REDIRECT, data=data)
    finally:
        network.close()

    assert profile.handle == "alice"
    [call] = fake_x.seen("POST", "/2/oauth2/token")
    assert call.headers["Authorization"].startswith("Basic ")
    assert "client_id" not in parse_qs(call.body)


async def test_wrong_verifier_is_refused(x_network: XNetwork) -> None:
    code, _ = await authorise(x_network)

    with pytest.raises(DomainError) as caught:
        await x_network.complete(code=code, redirect_uri=REDIRECT, data={"verifier": "wrong"})

    assert caught.value.key == "web.error.authorisation_failed"


async def test_post_success(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)

    outcome = await x_network.post(account, "Hello #river", "key-1")

    assert outcome.kind is OutcomeKind.POSTED
    assert outcome.remote_id and outcome.url == f"https://x.com/dana/status/{outcome.remote_id}"
    assert fake_x.posts[account.remote_id] == 1


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (403, None, OutcomeKind.REJECTED),
        (403, {"errors": [{"message": "Your account is suspended"}]}, OutcomeKind.REVOKED),
        (400, None, OutcomeKind.REJECTED),
        (500, None, OutcomeKind.NETWORK_DOWN),
        (503, None, OutcomeKind.NETWORK_DOWN),
    ],
)
async def test_post_failures_map_to_outcomes(
    x_network: XNetwork,
    fake_x: FakeX,
    repo: Repository,
    clock: FakeClock,
    status: int,
    body: dict[str, object] | None,
    kind: OutcomeKind,
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.fail(status, account=account.remote_id, path="/2/tweets", body=body)

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.kind is kind
    assert fake_x.posts[account.remote_id] == 0


async def test_duplicate_tweet_is_rejected(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    assert (await x_network.post(account, "Same words", "k1")).ok

    outcome = await x_network.post(account, "Same words", "k2")

    assert outcome.kind is OutcomeKind.REJECTED
    assert "duplicate" in outcome.reason


async def test_rate_limit_gives_retry_moment(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.fail(429, path="/2/tweets", headers={"x-rate-limit-reset": reset_in(900)})

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.retry_at is not None
    assert outcome.retry_at.timestamp() == pytest.approx(float(reset_in(900)), abs=5)


async def test_connection_refused_is_network_down(
    repo: Repository, fake_x: FakeX, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    dead = settings_for(x_api_url=f"http://127.0.0.1:{free_port()}")
    network = XNetwork(dead, repo, clock=clock)
    try:
        outcome = await network.post(account, "Hello", "key")
    finally:
        network.close()

    assert outcome.kind is OutcomeKind.NETWORK_DOWN


async def test_401_refreshes_once_then_posts(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.expire(account.tokens.access_token)

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.ok
    assert len(fake_x.seen("POST", "/2/oauth2/token")) == 1
    assert account.id is not None
    stored = await repo.get_account(account.id)
    assert stored is not None
    assert stored.tokens.access_token != account.tokens.access_token
    assert stored.tokens.refresh_token != account.tokens.refresh_token  # X rotates them


async def test_expired_token_is_refreshed_before_posting(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock, expires_in=60)

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.ok
    assert [r.path for r in fake_x.requests] == ["/2/oauth2/token", "/2/tweets"]


async def test_401_without_refresh_token_is_revoked(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    account = replace(account, tokens=replace(account.tokens, refresh_token=None))
    fake_x.expire(account.tokens.access_token)

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.REVOKED


async def test_401_with_dead_refresh_token_is_revoked(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.expire(account.tokens.access_token)
    fake_x.refresh_tokens.clear()

    outcome = await x_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.REVOKED


@pytest.mark.parametrize(
    ("path", "call"),
    [("/2/oauth2/token", "refresh"), ("/2/oauth2/revoke", "revoke")],  # revoke: kept, retried
)
async def test_a_token_call_when_network_down_raises(
    x_network: XNetwork,
    fake_x: FakeX,
    repo: Repository,
    clock: FakeClock,
    path: str,
    call: str,
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.fail(502, path=path)

    with pytest.raises(NetworkFailure) as caught:
        await getattr(x_network, call)(account)

    assert caught.value.outcome.kind is OutcomeKind.NETWORK_DOWN
    assert fake_x.revoked == []


async def test_recent_posts_reads_the_timeline(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    assert (await x_network.post(account, "Before", "k0")).ok
    since = clock.advance(timedelta(minutes=5))
    posted = await x_network.post(account, "After #river", "k1")

    posts = await x_network.recent_posts(account, since)

    assert [(p.remote_id, p.text) for p in posts] == [(posted.remote_id, "After #river")]
    assert posts[0].created_at == since


async def test_recent_posts_failure_raises(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.fail(500, path=f"/2/users/{account.remote_id}/tweets")

    with pytest.raises(NetworkFailure) as caught:
        await x_network.recent_posts(account, clock.now())

    assert caught.value.outcome.kind is OutcomeKind.NETWORK_DOWN


async def test_revoke_revokes_both_tokens(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    account = await stored_x_account(repo, fake_x, clock)

    await x_network.revoke(account)

    assert fake_x.revoked == [account.tokens.access_token, account.tokens.refresh_token]
    assert (await x_network.post(account, "Hi", "k")).kind is OutcomeKind.REVOKED


async def test_compose_url(x_network: XNetwork, fake_x: FakeX, repo: Repository) -> None:
    account = await stored_x_account(repo, fake_x, FakeClock())

    url = x_network.compose_url(account, "Save it! #river https://e.org/?a=1&b=2")

    assert url == (
        f"{fake_x.url}/intent/post?text=Save%20it%21%20%23river%20"
        "https%3A%2F%2Fe.org%2F%3Fa%3D1%26b%3D2"
    )
