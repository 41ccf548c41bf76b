"""The X adapter keeps one keep-alive session for every token (no connection per tweet)."""

from __future__ import annotations

import pytest

from adapters.networks.x import XNetwork
from bot.domain.outcomes import OutcomeKind
from bot.ports import NetworkFailure, Repository
from bot.testing.clock import FakeClock
from tests.fakes.x_api import FakeX
from tests.integration.networks.conftest import stored_x_account
from tests.integration.networks.test_x import REDIRECT, authorise


async def test_tweets_of_several_accounts_share_one_connection(
    x_network: XNetwork, fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    first = await stored_x_account(repo, fake_x, clock)
    second = await stored_x_account(repo, fake_x, clock)

    outcomes = [
        await x_network.post(account, f"Hello {n}", f"key-{n}")
        for n, account in enumerate([first, second, first])
    ]

    assert all(outcome.ok for outcome in outcomes)
    calls = [r for r in fake_x.requests if r.method == "POST" and r.path == "/2/tweets"]
    assert len(calls) == 3
    assert len({call.peer for call in calls}) == 1
    tokens = [call.headers["Authorization"] for call in calls]
    assert tokens == [f"Bearer {a.tokens.access_token}" for a in (first, second, first)]
    assert "Cookie" not in calls[2].headers


async def test_linking_several_accounts_keeps_one_connection(
    x_network: XNetwork, fake_x: FakeX
) -> None:
    """A pledge's token exchange and profile read reuse the adapter's keep-alive session:
    many people pledging at once must not each cost a new connection (and a new session)."""
    for name in ("ann", "bob", "cyd"):
        fake_x.next_user = name
        code, data = await authorise(x_network)
        profile = await x_network.complete(code=code, redirect_uri=REDIRECT, data=data)
        assert profile.handle == name

    calls = [r for r in fake_x.requests if r.path in ("/2/oauth2/token", "/2/users/me")]
    assert len(calls) == 6
    assert len({call.peer for call in calls}) == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, OutcomeKind.REVOKED),
        (429, OutcomeKind.RATE_LIMITED),
        (503, OutcomeKind.NETWORK_DOWN),
        (400, OutcomeKind.REJECTED),
    ],
)
async def test_a_failed_profile_read_revokes_the_new_tokens(
    x_network: XNetwork, fake_x: FakeX, status: int, kind: OutcomeKind
) -> None:
    code, data = await authorise(x_network)
    fake_x.fail(status, path="/2/users/me")

    with pytest.raises(NetworkFailure) as caught:
        await x_network.complete(code=code, redirect_uri=REDIRECT, data=data)

    assert caught.value.outcome.kind is kind
    assert len(fake_x.seen("POST", "/2/oauth2/revoke")) == 2  # access and refresh token
