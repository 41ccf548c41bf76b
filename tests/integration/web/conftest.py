"""Fixtures for the pledge site tests: a running site and a browser-like HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.ports import Repository
from tests.fakes.pledge_site import PledgeSite, start_site


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies (127.0.0.1 included) and never follows redirects."""
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    ) as session:
        yield session
