"""Each network is asked for the least its delivery mode needs: no posting rights in ``tap``.

The scope is read where it matters: in the authorize URL the supporter approves, and in the
token the fake network grants after the round trip.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from adapters.networks.mastodon import MastodonNetwork
from adapters.networks.x import XNetwork
from bot.domain.account import LinkedProfile
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX
from tests.integration.networks.conftest import settings_for
from tests.integration.networks.test_mastodon import REDIRECT as MASTODON_REDIRECT
from tests.integration.networks.test_mastodon import authorise as authorise_mastodon
from tests.integration.networks.test_x import REDIRECT as X_REDIRECT
from tests.integration.networks.test_x import authorise as authorise_x


async def mastodon_round_trip(
    network: MastodonNetwork, fake: FakeMastodon
) -> tuple[str, LinkedProfile]:
    """The scope the supporter was asked to approve, and the profile linked with it."""
    code, data = await authorise_mastodon(network, fake.host)
    profile = await network.complete(code=code, redirect_uri=MASTODON_REDIRECT, data=data)
    return fake.seen("GET", "/oauth/authorize")[-1].query["scope"], profile


@pytest.mark.parametrize(
    ("mode", "scope"),
    [
        ("tap", "read:accounts read:statuses"),
        ("auto", "read:accounts read:statuses write:statuses"),
    ],
)
async def test_mastodon_asks_for_writing_only_in_auto(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock, mode: str, scope: str
) -> None:
    network = MastodonNetwork(settings_for(mastodon_delivery=mode), repo, clock=clock)
    try:
        asked, profile = await mastodon_round_trip(network, fake_mastodon)
    finally:
        await network.aclose()

    assert asked == scope
    assert profile.tokens.scope == scope  # what the instance granted
    [exchange] = fake_mastodon.seen("POST", "/oauth/token")
    assert parse_qs(exchange.body)["scope"] == [scope]


async def test_the_mastodon_app_is_registered_once_for_either_mode(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    """The app's scopes are a ceiling, not a grant: a deployment moving from tap to auto
    must not need a new registration on every instance (and the hourly cap)."""
    for mode in ("tap", "auto"):
        network = MastodonNetwork(settings_for(mastodon_delivery=mode), repo, clock=clock)
        try:
            await mastodon_round_trip(network, fake_mastodon)
        finally:
            await network.aclose()

    [register] = fake_mastodon.seen("POST", "/api/v1/apps")
    assert parse_qs(register.body)["scopes"] == ["read:accounts read:statuses write:statuses"]


@pytest.mark.parametrize(
    ("mode", "scope"),
    [
        ("tap", "tweet.read users.read offline.access"),
        ("auto", "tweet.read tweet.write users.read offline.access"),
    ],
)
async def test_x_asks_for_tweet_write_only_in_auto(
    repo: Repository, fake_x: FakeX, clock: FakeClock, mode: str, scope: str
) -> None:
    network = XNetwork(settings_for(fake_x, x_delivery=mode), repo, clock=clock)
    try:
        code, data = await authorise_x(network)
        profile = await network.complete(code=code, redirect_uri=X_REDIRECT, data=data)
    finally:
        await network.aclose()

    assert fake_x.seen("GET", "/i/oauth2/authorize")[-1].query["scope"] == scope
    assert profile.tokens.scope == scope
