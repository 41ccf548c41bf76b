"""A loopback PDS: protected-resource metadata, describeRepo and a strict createRecord.

``com.atproto.repo.createRecord`` wants ``Authorization: DPoP <token>`` with a proof bound
to that token (``ath``), signed by the grant's key, carrying a nonce this PDS issued and
nobody used (``401`` with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` otherwise); an
expired or revoked token gets ``401 … error="invalid_token"``. The token must belong to the
repo written to and its scope allow creating records in the collection. A record key
already taken answers ``400 InvalidRequest`` "Record already exists" (nothing is written).
Tokens are the ``FakeAuthServer``'s: this PDS trusts that one server.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.atproto_auth import DpopCheck, DpopRefused, FakeAuthServer
from tests.fakes.loopback import LoopbackFake


@dataclass
class StoredRecord:
    uri: str
    cid: str
    value: dict[str, Any]


def _allows(scope: str, collection: str) -> bool:
    for granted in scope.split():
        if granted == "transition:generic":
            return True
        if granted.startswith("repo:"):
            target, _, query = granted[5:].partition("?")
            actions = [p.split("=", 1)[1] for p in query.split("&") if p.startswith("action=")]
            if target in (collection, "*") and (not actions or "create" in actions):
                return True
    return False


class FakePds(LoopbackFake):
    """A PDS hosting repos (one per DID), trusting ``auth`` for its tokens."""

    name = "atproto-pds"

    def __init__(self, auth: FakeAuthServer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.auth = auth
        self.dpop = DpopCheck(self.now)
        self.records: dict[str, StoredRecord] = {}  # by at:// URI

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/.well-known/oauth-protected-resource", self.resource)
        router.add_post("/xrpc/com.atproto.repo.createRecord", self.create_record)

    def account_of(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        found = self.auth.token_of(token) if scheme == "DPoP" else None
        return found.grant.did if found else None

    async def resource(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"resource": self.url, "authorization_servers": [self.auth.issuer]}
        )

    def _unauthorized(self, error: str, description: str) -> web.Response:
        return web.json_response(
            {
                "error": "InvalidToken" if error == "invalid_token" else error,
                "message": description,
            },
            status=401,
            headers={
                "WWW-Authenticate": f'DPoP error="{error}", error_description="{description}"',
                "DPoP-Nonce": self.dpop.next_nonce(),
            },
        )

    async def create_record(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "DPoP" or not token:
            return self._unauthorized("invalid_token", "DPoP authorization required")
        try:
            jkt = self.dpop.check(request, access_token=token)
        except DpopRefused as refused:
            return self._unauthorized(refused.error, refused.description)
        found = self.auth.token_of(token)
        if found is None or found.expires_at <= self.now():
            return self._unauthorized("invalid_token", "token expired or revoked")
        if found.grant.jkt != jkt:
            return self._unauthorized("invalid_dpop_proof", "proof key is not the token's")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._answer({"error": "InvalidRequest", "message": "not JSON"}, 400)
        repo, collection, rkey = body.get("repo"), body.get("collection"), body.get("rkey")
        record = body.get("record")
        if repo != found.grant.did:
            return self._answer({"error": "InvalidRequest", "message": "not your repo"}, 403)
        if not isinstance(collection, str) or not _allows(found.grant.scope, collection):
            return self._answer({"error": "ScopeMissingError", "message": "scope"}, 403)
        if not isinstance(record, dict) or not isinstance(rkey, str) or not rkey:
            return self._answer({"error": "InvalidRequest", "message": "record and rkey"}, 400)
        uri = f"at://{repo}/{collection}/{rkey}"
        if uri in self.records:
            return self._answer(
                {"error": "InvalidRequest", "message": "Record already exists"}, 400
            )
        raw = json.dumps(record, sort_keys=True).encode()
        cid = "bafyrei" + hashlib.sha256(raw).hexdigest()[:52]
        self.records[uri] = StoredRecord(uri, cid, record)
        return self._answer({"uri": uri, "cid": cid, "validationStatus": "valid"}, 200)

    def _answer(self, body: dict[str, Any], status: int) -> web.Response:
        return web.json_response(
            body, status=status, headers={"DPoP-Nonce": self.dpop.next_nonce()}
        )
