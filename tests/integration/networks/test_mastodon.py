"""The Mastodon adapter over real HTTP (its guarded aiohttp path) against the fake instance."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.networks.instances import normalise_instance
from adapters.networks.mastodon import MASTODON, MastodonNetwork
from adapters.networks.oauth import challenge_of
from bot.domain.account import FOLLOWERS_MAX, SocialAccount
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.outcomes import OutcomeKind
from bot.ports import NetworkFailure, Repository
from bot.testing.clock import FakeClock
from tests.fakes.loopback import reset_in
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.networks.conftest import settings_for

REDIRECT = "http://127.0.0.1:9/oauth/mastodon/callback"


async def authorise(network: MastodonNetwork, instance: str) -> tuple[str, dict[str, object]]:
    url, data = await network.authorization_url(
        state="state-1", redirect_uri=REDIRECT, instance=instance
    )
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        location = response.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0], data


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "mastodon.social"),
        ("  Mastodon.Social  ", "mastodon.social"),
        ("https://mastodon.social/about", "mastodon.social"),
        ("@alice@Mastodon.Social", "mastodon.social"),
        ("alice@fosstodon.org", "fosstodon.org"),
        ("mastodon.social.", "mastodon.social"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_instance_is_normalised(typed: str, expected: str) -> None:
    assert normalise_instance(typed, allow_port=False) == expected


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "web.mastodon.instance_missing"),
        ("not an instance", "web.mastodon.instance_invalid"),
        ("localhost", "web.mastodon.instance_invalid"),
        ("ftp://mastodon.social", "web.mastodon.instance_invalid"),
        ("mastodon.social:8443", "web.mastodon.instance_invalid"),  # ports only in test mode
        ("-bad-.example", "web.mastodon.instance_invalid"),
    ],
)
def test_bad_instances_are_refused(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_instance(typed, allow_port=False)
    assert caught.value.key == key


@pytest.mark.parametrize("target", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]"])
async def test_private_addresses_are_refused_without_a_request(
    repo: Repository, fake_mastodon: FakeMastodon, target: str
) -> None:
    network = MastodonNetwork(settings_for(mastodon_allow_private_hosts=False), repo)
    try:
        with pytest.raises(InvalidInput) as caught:
            await network.authorization_url(state="s", redirect_uri=REDIRECT, instance=target)
        with pytest.raises(InvalidInput):
            await network.authorization_url(
                state="s", redirect_uri=REDIRECT, instance=fake_mastodon.url
            )
    finally:
        network.close()

    assert caught.value.key in ("web.mastodon.instance_private", "web.mastodon.instance_invalid")
    assert fake_mastodon.requests == []


async def test_hostname_resolving_to_loopback_is_refused(repo: Repository) -> None:
    network = MastodonNetwork(settings_for(mastodon_allow_private_hosts=False), repo)
    try:
        with pytest.raises(InvalidInput) as caught:
            await network.check_instance("localhost.localdomain")
    finally:
        network.close()

    assert caught.value.key in ("web.mastodon.instance_private", "web.mastodon.instance_unknown")


async def test_authorization_registers_the_app_once_and_uses_pkce(
    mastodon_network: MastodonNetwork, fake_mastodon: FakeMastodon, repo: Repository
) -> None:
    url, data = await mastodon_network.authorization_url(
        state="s1", redirect_uri=REDIRECT, instance=fake_mastodon.url
    )
    await mastodon_network.authorization_url(
        state="s2", redirect_uri=REDIRECT, instance=f"@bob@{fake_mastodon.host}"
    )

    assert len(fake_mastodon.seen("POST", "/api/v1/apps")) == 1
    app = await repo.get_mastodon_app(fake_mastodon.host)
    assert app is not None
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [app[0]]
    assert query["scope"] == ["read:accounts read:statuses write:statuses"]
    assert query["code_challenge"] == [challenge_of(str(data["verifier"]))]
    assert data["instance"] == fake_mastodon.host
    [register] = fake_mastodon.seen("POST", "/api/v1/apps")
    assert parse_qs(register.body)["redirect_uris"] == [REDIRECT]


async def test_complete_links_the_profile(
    mastodon_network: MastodonNetwork, fake_mastodon: FakeMastodon
) -> None:
    code, data = await authorise(mastodon_network, fake_mastodon.host)

    profile = await mastodon_network.complete(code=code, redirect_uri=REDIRECT, data=data)

    assert (profile.handle, profile.followers, profile.instance) == (
        "bob",
        7,
        fake_mastodon.host,
    )
    assert fake_mastodon.tokens[profile.tokens.access_token] == profile.remote_id


@pytest.mark.parametrize(
    ("reported", "linked"),
    [(2**63 - 1, FOLLOWERS_MAX), (2**70, FOLLOWERS_MAX), (-1, 0), ("12", 12), ([], 0)],
)
async def test_followers_reported_by_an_instance_are_validated_and_clamped(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    reported: object,
    linked: int,
) -> None:
    fake_mastodon.add_user("carol").followers = reported  # type: ignore[assignment]
    fake_mastodon.next_user = "carol"
    code, data = await authorise(mastodon_network, fake_mastodon.host)

    profile = await mastodon_network.complete(code=code, redirect_uri=REDIRECT, data=data)

    assert profile.followers == linked


async def test_wrong_verifier_is_refused(
    mastodon_network: MastodonNetwork, fake_mastodon: FakeMastodon
) -> None:
    code, data = await authorise(mastodon_network, fake_mastodon.host)

    with pytest.raises(DomainError) as caught:
        await mastodon_network.complete(
            code=code, redirect_uri=REDIRECT, data={**data, "verifier": "wrong"}
        )

    assert caught.value.key == "web.error.authorisation_failed"


async def test_post_success_and_idempotency_key(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:

    first = await mastodon_network.post(account, "Hello #river", "pledge-1-launch")
    again = await mastodon_network.post(account, "Hello #river", "pledge-1-launch")

    assert first.ok and again.ok
    assert first.remote_id == again.remote_id
    assert fake_mastodon.posts[account.remote_id] == 1
    calls = fake_mastodon.seen("POST", "/api/v1/statuses")
    assert [c.headers["Idempotency-Key"] for c in calls] == ["pledge-1-launch"] * 2
    assert first.url and first.url.endswith(f"/@erin/{first.remote_id}")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, OutcomeKind.REVOKED),
        (403, OutcomeKind.REVOKED),
        (422, OutcomeKind.REJECTED),
        (500, OutcomeKind.NETWORK_DOWN),
        (503, OutcomeKind.NETWORK_DOWN),
    ],
)
async def test_post_failures_map_to_outcomes(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    status: int,
    kind: OutcomeKind,
    account: SocialAccount,
) -> None:
    fake_mastodon.fail(status, account=account.remote_id, path="/api/v1/statuses")

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is kind
    assert fake_mastodon.posts[account.remote_id] == 0


async def test_rate_limit_gives_retry_moment(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    fake_mastodon.fail(429, path="/api/v1/statuses", headers={"X-RateLimit-Reset": reset_in(300)})

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.retry_at is not None
    wait = (outcome.retry_at - clock.now()).total_seconds()
    assert 290 <= wait <= 305


async def test_too_long_status_is_rejected(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:

    outcome = await mastodon_network.post(account, "x" * 501, "key")

    assert outcome.kind is OutcomeKind.REJECTED
    assert "character limit" in outcome.reason


async def test_recent_posts(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    assert (await mastodon_network.post(account, "Old one", "k0")).ok
    since = clock.advance(timedelta(minutes=10))
    posted = await mastodon_network.post(account, "Fish & rivers <3 #river", "k1")

    posts = await mastodon_network.recent_posts(account, since)

    assert [(p.remote_id, p.text) for p in posts] == [
        (posted.remote_id, "Fish & rivers <3 #river")
    ]


async def test_recent_posts_with_revoked_token(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    fake_mastodon.tokens.clear()

    with pytest.raises(NetworkFailure) as caught:
        await mastodon_network.recent_posts(account, clock.now())

    assert caught.value.outcome.kind is OutcomeKind.REVOKED


async def test_revoke(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:
    await mastodon_network.authorization_url(
        state="s", redirect_uri=REDIRECT, instance=fake_mastodon.host
    )

    await mastodon_network.revoke(account)

    assert fake_mastodon.revoked == [account.tokens.access_token]
    assert (await mastodon_network.post(account, "Hi", "k")).kind is OutcomeKind.REVOKED


async def test_a_revocation_mastodon_does_not_confirm_raises(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:
    with pytest.raises(NetworkFailure):  # no app registered on the instance: cannot revoke
        await mastodon_network.revoke(account)
    await mastodon_network.authorization_url(
        state="s", redirect_uri=REDIRECT, instance=fake_mastodon.host
    )
    fake_mastodon.fail(502, path="/oauth/revoke")

    with pytest.raises(NetworkFailure) as caught:
        await mastodon_network.revoke(account)

    assert caught.value.outcome.kind is OutcomeKind.NETWORK_DOWN
    assert fake_mastodon.revoked == []


async def test_refresh_without_refresh_token_keeps_tokens(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:

    assert await mastodon_network.refresh(account) == account.tokens


def test_compose_url(mastodon_network: MastodonNetwork) -> None:
    from bot.domain.account import TokenSet
    from tests.integration.networks.conftest import OWNER

    account = SocialAccount(
        OWNER, MASTODON, "mastodon.social", "1", "a", 0, TokenSet("t"), FakeClock().now()
    )

    url = mastodon_network.compose_url(account, "Save it! #river")

    assert url == "https://mastodon.social/share?text=Save%20it%21%20%23river"
