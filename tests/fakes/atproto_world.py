"""The loopback AT Protocol fakes started together: identity, authorization server, PDS.

``lookup`` resolves every name to 127.0.0.1 (handles are real-looking names such as
``alice.test``, served by the identity fake, which reads the ``Host``), and ``handle_url``
is where a handle's ``/.well-known/atproto-did`` then lives: the same path, plain http, the
identity fake's port. Everything else (DID documents, PDS, server) is named by the fakes'
own ``http://127.0.0.1:port`` origins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from yarl import URL

from tests.fakes.atproto_auth import FakeAuthServer
from tests.fakes.atproto_identity import AtprotoAccount, FakeAtprotoIdentity
from tests.fakes.atproto_pds import FakePds


class AtprotoWorld:
    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.identity = FakeAtprotoIdentity(now=now)
        self.auth = FakeAuthServer(now=now, resolve_hint=self._hint)
        self.pds = FakePds(self.auth, now=now)

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
        return self.identity.add(handle, pds or self.pds.url, followers=followers)

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
