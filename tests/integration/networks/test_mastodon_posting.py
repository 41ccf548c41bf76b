"""The Mastodon adapter's posting path (one shared aiohttp session): every answer mapped.

``test_mastodon.py`` covers success, idempotency, 401/403/422/5xx, 429 with epoch reset
and a too-long status; these cover the rest of what a server or the network can do.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.mastodon import MastodonNetwork
from bot.domain.account import SocialAccount
from bot.domain.outcomes import OutcomeKind
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.networks.conftest import settings_for


async def test_many_posts_share_one_connection(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:

    outcomes = [await mastodon_network.post(account, f"Hello {n}", f"k{n}") for n in range(5)]

    assert all(outcome.ok for outcome in outcomes)
    assert len({outcome.remote_id for outcome in outcomes}) == 5
    calls = fake_mastodon.seen("POST", "/api/v1/statuses")
    assert len({call.peer for call in calls}) == 1  # kept alive, not reconnected
    assert calls[0].headers["Authorization"] == f"Bearer {account.tokens.access_token}"
    assert json.loads(calls[0].body) == {"status": "Hello 0", "visibility": "public"}


async def test_iso_rate_limit_reset_is_honoured(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=600)).isoformat().replace("+00:00", "Z")
    fake_mastodon.fail(429, path="/api/v1/statuses", headers={"X-RateLimit-Reset": reset})

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.retry_at is not None
    assert 590 <= (outcome.retry_at - clock.now()).total_seconds() <= 605


@pytest.mark.parametrize("reset", [None, "not a moment", "1"])
async def test_rate_limit_without_usable_reset_waits_the_default(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    reset: str | None,
    account: SocialAccount,
) -> None:
    headers = {} if reset is None else {"X-RateLimit-Reset": reset}
    fake_mastodon.fail(429, path="/api/v1/statuses", headers=headers)

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.retry_at == clock.now() + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason"),
    [
        (403, {"error": "This action is not allowed"}, OutcomeKind.REVOKED, "not allowed"),
        (404, {"error": "Record not found"}, OutcomeKind.REJECTED, "Record not found"),
        (410, None, OutcomeKind.REJECTED, "injected failure 410"),
        (400, {"unexpected": "shape"}, OutcomeKind.REJECTED, "status 400"),
        (502, None, OutcomeKind.NETWORK_DOWN, "server error 502"),
        (200, {"unexpected": "shape"}, OutcomeKind.NETWORK_DOWN, "unreadable response"),
    ],
)
async def test_other_answers_are_mapped(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    status: int,
    body: dict[str, str] | None,
    kind: OutcomeKind,
    reason: str,
    account: SocialAccount,
) -> None:
    fake_mastodon.fail(status, path="/api/v1/statuses", body=body)

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is kind
    assert reason in outcome.reason


async def test_a_redirect_is_not_followed(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:
    fake_mastodon.fail(
        307, path="/api/v1/statuses", headers={"Location": f"{fake_mastodon.url}/inwards"}
    )

    outcome = await mastodon_network.post(account, "Hello", "key")

    assert outcome.kind is OutcomeKind.NETWORK_DOWN
    assert [r.path for r in fake_mastodon.requests] == ["/api/v1/statuses"]


async def test_unreachable_instance_is_network_down(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
) -> None:
    port = fake_mastodon.port
    await fake_mastodon.close()  # nothing listens there any more

    gone = replace(account, instance=f"127.0.0.1:{port}")
    outcome = await mastodon_network.post(gone, "Hello", "key")

    assert outcome.kind is OutcomeKind.NETWORK_DOWN


async def test_slow_instance_times_out_as_network_down(
    repo: Repository,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    fake_mastodon.latency_ms = 1_000  # the fake still finishes the request on close
    network = MastodonNetwork(settings_for(), repo, clock=clock, deadline=0.1)
    try:
        outcome = await network.post(account, "Hello", "key")
    finally:
        await network.aclose()

    assert outcome.kind is OutcomeKind.NETWORK_DOWN
    assert fake_mastodon.posts[account.remote_id] == 0


@pytest.mark.parametrize("instance", ["127.0.0.1", "10.1.2.3", "localhost"])
async def test_private_instance_is_never_posted_to(
    repo: Repository,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    instance: str,
    account: SocialAccount,
) -> None:
    network = MastodonNetwork(settings_for(mastodon_allow_private_hosts=False), repo, clock=clock)
    try:
        outcome = await network.post(replace(account, instance=instance), "Hello", "key")
    finally:
        await network.aclose()

    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.reason == "instance address is not public"
    assert fake_mastodon.requests == []


async def test_closing_is_idempotent(
    repo: Repository,
    fake_mastodon: FakeMastodon,
    clock: FakeClock,
    account: SocialAccount,
) -> None:
    network = MastodonNetwork(settings_for(), repo, clock=clock)
    assert (await network.post(account, "One", "k1")).ok

    await network.aclose()
    await network.aclose()

    assert fake_mastodon.posts[account.remote_id] == 1
