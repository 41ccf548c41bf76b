"""The X adapter keeps one keep-alive session for every token (no connection per tweet)."""

from __future__ import annotations

from adapters.networks.x import XNetwork
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.x_api import FakeX
from tests.integration.networks.conftest import stored_x_account


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
