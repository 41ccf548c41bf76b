"""Refreshed tokens have one owner: the adapter that received them stores them, once.

The port says so (``SocialNetwork.refresh``); these tests hold the blast's preparation and
X's own refresh-on-401 to it, counting the token writes that reach the real repository.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.networks import x_spec
from adapters.networks.x import X, XNetwork
from bot.blast.prepare import prepare
from bot.domain.account import TokenSet
from bot.domain.campaign import Campaign, CampaignStatus, new_ref
from bot.domain.pledge import DeliveryState, Pledge
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.x_api import FakeX
from tests.integration.networks.conftest import OWNER, settings_for, stored_x_account


class CountedTokenWrites:
    """The real repository; every ``update_tokens`` call is noted before it runs."""

    def __init__(self, inner: Repository) -> None:
        self._inner = inner
        self.token_writes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def update_tokens(self, account_id: int, tokens: TokenSet) -> None:
        self.token_writes.append(account_id)
        await self._inner.update_tokens(account_id, tokens)


async def test_a_refresh_at_the_preparation_is_stored_once(
    fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    counted = CountedTokenWrites(repo)
    network = XNetwork(settings_for(fake_x), counted, clock=clock)  # type: ignore[arg-type]
    account = await stored_x_account(repo, fake_x, clock, expires_in=60)
    assert account.id is not None
    campaign = await repo.add_campaign(
        Campaign(
            ref=new_ref(),
            title="Tokens",
            message="Hello #tokens",
            goal=1,
            launch_at=clock.now() + timedelta(minutes=5),
            networks=(X,),
            organiser=OWNER,
            created_at=clock.now(),
            status=CampaignStatus.LAUNCHING,
        )
    )
    assert campaign.id is not None
    pledge = await repo.add_pledge(
        Pledge(
            campaign_id=campaign.id,
            supporter=UserRef("test", "77", "Pat"),
            account_id=account.id,
            network=X,
            created_at=clock.now(),
        )
    )
    accounts = {account.id: account}
    try:
        queued = await prepare(
            repo=counted,  # type: ignore[arg-type]
            networks={X: network},
            modes={X: x_spec.delivery_mode(settings_for(fake_x))},
            settings=settings_for(fake_x),
            campaign=campaign,
            pledges=[pledge],
            accounts=accounts,
            now=clock.now(),
            batch=100,
            refresh_concurrency=2,
        )
    finally:
        await network.aclose()

    assert queued == {pledge.id}
    assert len(fake_x.seen("POST", "/2/oauth2/token")) == 1
    assert counted.token_writes == [account.id]
    stored = await repo.get_account(account.id)
    assert stored is not None
    assert stored.tokens == accounts[account.id].tokens != account.tokens
    queued_pledge = await repo.get_pledge(pledge.id or 0)
    assert queued_pledge is not None and queued_pledge.delivery is DeliveryState.QUEUED


async def test_a_refresh_on_a_401_is_stored_once(
    fake_x: FakeX, repo: Repository, clock: FakeClock
) -> None:
    counted = CountedTokenWrites(repo)
    network = XNetwork(settings_for(fake_x), counted, clock=clock)  # type: ignore[arg-type]
    account = await stored_x_account(repo, fake_x, clock)
    fake_x.expire(account.tokens.access_token)
    try:
        outcome = await network.post(account, "Hello", "key")
    finally:
        await network.aclose()

    assert outcome.ok
    assert counted.token_writes == [account.id]
