"""A loopback AT Protocol identity layer: handle domains, a PLC directory, an AppView.

One server plays three parts, told apart by path and ``Host``:

- every handle's domain: ``GET /.well-known/atproto-did`` answers the DID of the handle
  named by the request's ``Host`` (tests resolve any handle to 127.0.0.1 and send it here);
- the PLC directory: ``GET /did:plc:…`` answers the DID document;
- the public AppView, the parts the linking side reads: ``app.bsky.actor.getProfile`` and
  ``com.atproto.identity.resolveHandle`` (for handles published only in DNS).

A test can make a handle lie (point at someone else's DID), hide it from HTTPS (``dns_only``),
or make a DID document name another PDS after the fact (``move``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackFake

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_plc_did() -> str:
    return "did:plc:" + "".join(secrets.choice(_BASE32) for _ in range(24))


@dataclass
class AtprotoAccount:
    did: str
    handle: str
    pds: str
    followers: int = 0
    dns_only: bool = False  # the handle is not served over HTTPS
    extra_handles: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": self.did,
            "alsoKnownAs": [f"at://{h}" for h in (self.handle, *self.extra_handles)],
            "verificationMethod": [],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": self.pds,
                }
            ],
        }


class FakeAtprotoIdentity(LoopbackFake):
    """Handle domains, the PLC directory and the public AppView, on one loopback port."""

    name = "atproto-identity"

    def __init__(self, **kwargs: Any) -> None:
        self.accounts: dict[str, AtprotoAccount] = {}  # by DID
        self.handles: dict[str, str] = {}  # handle -> DID it points at
        super().__init__(**kwargs)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/.well-known/atproto-did", self.well_known_did)
        router.add_get("/xrpc/app.bsky.actor.getProfile", self.get_profile)
        router.add_get("/xrpc/com.atproto.identity.resolveHandle", self.resolve_handle)
        router.add_get("/{did:did:plc:[a-z2-7]+}", self.plc_document)

    @property
    def directory_url(self) -> str:
        return self.url

    def add(
        self, handle: str, pds: str, *, followers: int = 0, did: str | None = None
    ) -> AtprotoAccount:
        account = AtprotoAccount(did or new_plc_did(), handle, pds, followers)
        self.accounts[account.did] = account
        self.handles[handle] = account.did
        return account

    def move(self, did: str, pds: str) -> None:
        """The DID document now names another PDS."""
        self.accounts[did].pds = pds

    async def well_known_did(self, request: web.Request) -> web.Response:
        host = request.host.rsplit(":", 1)[0].lower()
        did = self.handles.get(host)
        account = self.accounts.get(did or "")
        if did is None or (account is not None and account.dns_only):
            return web.Response(status=404, text="no such handle")
        return web.Response(text=did, content_type="text/plain")

    async def plc_document(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["did"])
        if account is None:
            return web.json_response({"message": "DID not registered"}, status=404)
        return web.json_response(account.document())

    async def resolve_handle(self, request: web.Request) -> web.Response:
        did = self.handles.get(request.query.get("handle", "").lower())
        if did is None:
            return web.json_response(
                {"error": "InvalidRequest", "message": "Unable to resolve handle"}, status=400
            )
        return web.json_response({"did": did})

    async def get_profile(self, request: web.Request) -> web.Response:
        actor = request.query.get("actor", "")
        account = self.accounts.get(actor) or self.accounts.get(self.handles.get(actor, ""))
        if account is None:
            return web.json_response(
                {"error": "InvalidRequest", "message": "Profile not found"}, status=400
            )
        return web.json_response(
            {
                "did": account.did,
                "handle": account.handle,
                "followersCount": account.followers,
                "followsCount": 0,
                "postsCount": 0,
            }
        )
