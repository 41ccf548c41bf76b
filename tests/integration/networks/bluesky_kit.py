"""Shared pieces of the Bluesky linking tests: the fakes, the linker, one OAuth round trip."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from adapters.networks.atproto_dpop import EcKey
from adapters.networks.bluesky_oauth import BlueskyOAuth
from bot.domain.account import LinkedProfile
from bot.domain.networks import DeliveryMode
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld

CONFIDENTIAL_URL = "https://chorus.example.org"
LOOPBACK_URL = "http://127.0.0.1:9"
CLIENT_KEY = EcKey.generate().to_text()


def bluesky_settings(world: AtprotoWorld, *, confidential: bool, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "public_url": CONFIDENTIAL_URL if confidential else LOOPBACK_URL,
        "blast_concurrency": 4,
        **world.settings_values(),
    }
    if confidential:
        base["bluesky_client_key"] = CLIENT_KEY
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def make_linker(
    world: AtprotoWorld,
    clock: FakeClock,
    repo: Repository | None = None,
    *,
    confidential: bool = True,
    mode: DeliveryMode = DeliveryMode.AUTO,
    **kwargs: Any,
) -> BlueskyOAuth:
    linker = BlueskyOAuth(
        bluesky_settings(world, confidential=confidential),
        mode=mode,
        repo=repo,
        clock=clock,
        lookup=world.lookup,
        handle_url=world.handle_url,
        **kwargs,
    )
    documents = linker.documents()
    if documents:  # what the server would fetch from the client_id URL
        world.auth.register_client(documents["client-metadata"], documents["jwks"])
    return linker


async def follow_authorize(url: str) -> dict[str, str]:
    """Play the supporter's browser at the server: the redirect's query parameters."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(url, allow_redirects=False) as answer,
    ):
        assert answer.status == 302, await answer.text()
        location = answer.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def start(linker: BlueskyOAuth, handle: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The PAR and the authorization: the callback's parameters and the kept data."""
    url, data = await linker.authorization_url(
        state="test-state", redirect_uri=linker.redirect_uri, instance=handle
    )
    returned = await follow_authorize(url)
    assert returned["state"] == "test-state"
    return returned, data


async def link(linker: BlueskyOAuth, handle: str) -> LinkedProfile:
    """A whole link, as the pledge flow runs it (the callback's ``iss`` in the data)."""
    returned, data = await start(linker, handle)
    data["callback_issuer"] = returned.get("iss", "")
    return await linker.complete(
        code=returned["code"], redirect_uri=linker.redirect_uri, data=data
    )
