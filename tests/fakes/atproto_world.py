"""The loopback AT Protocol fakes started together: identity, authorization server, PDS.

``lookup`` resolves every name to 127.0.0.1 (handles are real-looking names such as
``alice.test``, served by the identity fake, which reads the ``Host``), and ``handle_url``
is where a handle's ``/.well-known/atproto-did`` then lives: the same path, plain http, the
identity fake's port. Everything else (DID documents, PDS, server) is named by the fakes'
own ``http://127.0.0.1:port`` origins.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from yarl import URL

from tests.fakes.atproto_auth import DpopCheck, FakeAuthServer
from tests.fakes.atproto_identity import AtprotoAccount, FakeAtprotoIdentity
from tests.fakes.atproto_pds import FakePds, StoredRecord
from tests.fakes.bluesky_appview import POST, FakeAppView


def _moment(value: object, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:  # the PDS takes any record; the AppView sorts it by indexing time
        return default
    return moment if moment.tzinfo else default


class AtprotoWorld:
    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.identity = FakeAtprotoIdentity(now=now)
        self.auth = FakeAuthServer(now=now, resolve_hint=self._hint)
        self.pds = FakePds(self.auth, now=now)
        # the AppView's author feeds: posts written on the PDS appear there, as a real
        # AppView indexes them from the firehose; posts written elsewhere (the supporter
        # in the Bluesky app, tap mode) are added with ``appview.add_post``
        self.appview = FakeAppView(now=now)
        self.identity.feeds = self.appview
        self.pds.listeners.append(self._index)

    def _index(self, did: str, rkey: str, stored: StoredRecord) -> None:
        if did not in self.appview.actors or stored.uri.split("/")[-2] != POST:
            return
        moment = _moment(stored.value.get("createdAt"), self.identity.now())
        self.appview.add_post(
            did,
            str(stored.value.get("text", "")),
            moment,
            rkey=rkey,
            facets=stored.value.get("facets"),
            indexed_at=self.identity.now(),
        )

    def _hint(self, hint: str) -> str | None:
        return hint if hint.startswith("did:") else self.identity.handles.get(hint)

    async def __aenter__(self) -> AtprotoWorld:
        await self.identity.start()
        await self.auth.start()
        await self.pds.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pds.close()
        await self.auth.close()
        await self.identity.close()

    def add(self, handle: str, *, followers: int = 0, pds: str | None = None) -> AtprotoAccount:
        account = self.identity.add(handle, pds or self.pds.url, followers=followers)
        self.appview.add_actor(account.did, handle, followers)
        return account

    def handle_url(self, handle: str) -> URL:
        return URL.build(
            scheme="http", host=handle, port=self.identity.port, path="/.well-known/atproto-did"
        )

    @staticmethod
    async def lookup(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    def settings_values(self) -> dict[str, Any]:
        return {
            "bluesky_directory_url": self.identity.directory_url,
            "bluesky_appview_url": self.identity.url,
            "bluesky_allow_private_hosts": True,
        }


def main() -> None:
    """``python -m tests.fakes.atproto_world --accounts N --latency-ms L``: the fakes in a
    process of their own (the benchmark's), one nonce at a time as the reference PDS
    does; prints their addresses and the handles ``bench<n>.test`` as one JSON line."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--accounts", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    args = parser.parse_args()

    async def serve() -> None:
        async with AtprotoWorld() as world:
            world.pds.dpop = DpopCheck(world.pds.now, rotate_every=timedelta(minutes=3))
            world.pds.latency_ms = args.latency_ms
            for fake in (world.identity, world.auth, world.pds):
                fake.record_requests = False
            handles = [f"bench{n}.test" for n in range(args.accounts)]
            for n, handle in enumerate(handles):
                world.add(handle, followers=n % 7)
            info = {
                "settings": world.settings_values(),
                "identity_port": world.identity.port,
                "pds": world.pds.url,
                "handles": handles,
            }
            print(json.dumps(info), flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
