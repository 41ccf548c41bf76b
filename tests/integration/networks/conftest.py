"""Fixtures for the network adapter tests: the fakes, settings and stored accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON, MastodonNetwork
from adapters.networks.x import X, XNetwork
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX

OWNER = UserRef("test", "77", "Pat")


@pytest.fixture
async def fake_x(clock: FakeClock) -> AsyncIterator[FakeX]:
    async with FakeX(now=clock.now) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
async def fake_mastodon(clock: FakeClock) -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon(now=clock.now) as fake:
        yield fake  # type: ignore[misc]


def settings_for(fake_x: FakeX | None = None, **values: object) -> Settings:
    base: dict[str, object] = {
        "public_url": "http://127.0.0.1:9",
        "x_client_id": "test-client-id",
        "mastodon_allow_private_hosts": True,
        "blast_concurrency": 4,
    }
    if fake_x is not None:
        base["x_api_url"] = fake_x.url
        base["x_authorize_url"] = f"{fake_x.url}/i/oauth2/authorize"
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
async def x_network(fake_x: FakeX, repo: Repository, clock: FakeClock) -> AsyncIterator[XNetwork]:
    network = XNetwork(settings_for(fake_x), repo, clock=clock)
    yield network
    await network.aclose()


@pytest.fixture
async def mastodon_network(repo: Repository, clock: FakeClock) -> AsyncIterator[MastodonNetwork]:
    network = MastodonNetwork(settings_for(), repo, clock=clock)
    yield network
    await network.aclose()


async def stored_x_account(
    repo: Repository, fake_x: FakeX, clock: FakeClock, *, expires_in: int = 7200
) -> SocialAccount:
    user = fake_x.add_user("dana", followers=5)
    access, refresh = fake_x.issue_tokens(user.id)
    return await repo.save_account(
        SocialAccount(
            owner=OWNER,
            network=X,
            instance="x.com",
            remote_id=user.id,
            handle=user.username,
            followers=user.followers,
            tokens=TokenSet(access, refresh, clock.now() + timedelta(seconds=expires_in)),
            linked_at=clock.now(),
        )
    )


async def stored_mastodon_account(
    repo: Repository, fake: FakeMastodon, clock: FakeClock
) -> SocialAccount:
    user = fake.add_user("erin", followers=3)
    return await repo.save_account(
        SocialAccount(
            owner=OWNER,
            network=MASTODON,
            instance=fake.host,
            remote_id=user.id,
            handle=user.username,
            followers=user.followers,
            tokens=TokenSet(fake.issue_token(user.id)),
            linked_at=clock.now(),
        )
    )


@pytest.fixture
async def account(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> SocialAccount:
    """A Mastodon account linked on the fake instance, tokens stored."""
    return await stored_mastodon_account(repo, fake_mastodon, clock)
