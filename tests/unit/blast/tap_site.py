"""The pledge site served on loopback for blast tests, to follow a tap message's link.

A tap message carries our short link, not the compose URL; following it through the
real web app (real HTTP, no redirect followed) shows where the supporter really lands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.app import Chorus


@dataclass
class TapSite:
    session: aiohttp.ClientSession
    base_url: str

    async def follow(self, link: str) -> tuple[int, str]:
        """Open ``link`` (its path, on this server): the status and the Location."""
        path = urlsplit(link).path
        async with self.session.get(self.base_url + path, allow_redirects=False) as response:
            return response.status, response.headers.get("Location", "")


@asynccontextmanager
async def tap_site(core: Chorus) -> AsyncIterator[TapSite]:
    runner = web.AppRunner(core.web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield TapSite(session, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
