"""A loopback AT Protocol authorization server: PAR, authorize, token, revocation, DPoP.

Strict where the protocol is: every call needs a valid DPoP proof (ES256, ``dpop+jwt``, a
public JWK, a signature that checks, ``htm``/``htu`` naming this very request, a recent
``iat``, an unseen ``jti``) carrying a nonce this server issued and nobody used yet (each
answer hands out the next one in ``DPoP-Nonce``; an unknown or reused one is refused with
``use_dpop_nonce``). The DPoP key of the PAR must sign the code exchange and every refresh
of that grant. A confidential client proves itself with a ``private_key_jwt`` assertion
(right type, signed by a key of its registered JWKS, ``iss``/``sub`` its client id, ``aud``
this issuer, unexpired, unseen ``jti``); the loopback client (``http://localhost?…``) with
nothing. PKCE S256 is required; refresh tokens are single-use (a reused one revokes the
grant); the redirect carries ``iss`` (RFC 9207). ``DpopCheck`` is shared with the PDS fake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import web

from adapters.networks.atproto_dpop import (
    ASSERTION_TYPE,
    access_token_hash,
    public_key_from_jwk,
    thumbprint,
    verify_jwt,
)
from tests.fakes.loopback import LoopbackFake

MAX_SKEW = 60  # seconds either way for a proof's iat


class DpopRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class DpopCheck:
    """One server's DPoP rules: single-use nonces it issued, unseen ``jti``s, exact ``htu``."""

    def __init__(self, now: Callable[[], datetime], *, require_nonce: bool = True) -> None:
        self.now = now
        self.require_nonce = require_nonce
        self._issued: deque[str] = deque(maxlen=64)
        self._used: set[str] = set()
        self._jtis: set[str] = set()
        self.refusals: list[str] = []

    def next_nonce(self) -> str:
        nonce = secrets.token_urlsafe(16)
        self._issued.append(nonce)
        return nonce

    def check(self, request: web.Request, *, access_token: str | None = None) -> str:
        """The thumbprint of the proof's key; ``DpopRefused`` for any fault."""
        try:
            return self._check(request, access_token)
        except DpopRefused as refused:
            self.refusals.append(refused.description)
            raise

    def _check(self, request: web.Request, access_token: str | None) -> str:
        proofs = request.headers.getall("DPoP", [])
        if len(proofs) != 1:
            raise DpopRefused("invalid_dpop_proof", "exactly one DPoP header needed")
        head = proofs[0].split(".")[0]
        try:
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
            jwk = header.get("jwk")
            public = public_key_from_jwk(jwk)
            header, claims = verify_jwt(proofs[0], public)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise DpopRefused("invalid_dpop_proof", f"unreadable proof ({exc})") from exc
        if header.get("typ") != "dpop+jwt":
            raise DpopRefused("invalid_dpop_proof", "typ is not dpop+jwt")
        if claims.get("htm") != request.method:
            raise DpopRefused("invalid_dpop_proof", "htm does not match")
        expected_htu = f"{request.scheme}://{request.host}{request.path}"
        if claims.get("htu") != expected_htu:
            raise DpopRefused("invalid_dpop_proof", "htu does not match")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(iat - self.now().timestamp()) > MAX_SKEW:
            raise DpopRefused("invalid_dpop_proof", "iat out of range")
        jti = claims.get("jti")
        if not isinstance(jti, str) or jti in self._jtis:
            raise DpopRefused("invalid_dpop_proof", "jti missing or replayed")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise DpopRefused("invalid_dpop_proof", "ath does not match the access token")
        nonce = claims.get("nonce")
        if self.require_nonce and (nonce not in self._issued or nonce in self._used):
            raise DpopRefused("use_dpop_nonce", "nonce missing, unknown or already used")
        self._jtis.add(jti)
        if nonce:
            self._used.add(nonce)
        return thumbprint(jwk)


@dataclass
class Client:
    client_id: str
    redirect_uris: list[str]
    scope: str
    jwks: list[dict[str, Any]] = field(default_factory=list)  # empty: a public client


@dataclass
class Grant:
    did: str
    client_id: str
    jkt: str
    scope: str
    refresh_token: str
    revoked: bool = False


@dataclass
class Pushed:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    challenge: str
    jkt: str
    login_hint: str
    expires_at: datetime


@dataclass
class Code:
    pushed: Pushed
    did: str
    used: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: datetime


class FakeAuthServer(LoopbackFake):
    """The authorization server. ``approve`` says which DID logs in (default: the hint's)."""

    name = "atproto-auth"

    def __init__(
        self, *, resolve_hint: Callable[[str], str | None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.dpop = DpopCheck(self.now)
        self.clients: dict[str, Client] = {}
        self.pushed: dict[str, Pushed] = {}
        self.codes: dict[str, Code] = {}
        self.grants: list[Grant] = []
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, Grant] = {}
        self.spent_refresh: dict[str, Grant] = {}
        self.assertion_jtis: set[str] = set()
        self.resolve_hint = resolve_hint or (
            lambda hint: hint if hint.startswith("did:") else None
        )
        self.approve: str | None = None  # a DID: who logs in at the next authorize
        self.redirect_issuer: str | None = None  # to play a mix-up: the iss the redirect names
        self.token_lifetime = 3600
        self.sub_override: str | None = None  # to play a server naming another DID
        self.issuer_override: str | None = None  # the issuer its metadata claims
        self.metadata_changes: dict[str, Any] = {}  # to play a server with odd metadata
        self.refusals: list[str] = []

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/.well-known/oauth-authorization-server", self.metadata)
        router.add_post("/oauth/par", self.par)
        router.add_get("/oauth/authorize", self.authorize)
        router.add_post("/oauth/token", self.token)
        router.add_post("/oauth/revoke", self.revoke)

    @property
    def issuer(self) -> str:
        return self.url

    # ---- test controls ---------------------------------------------------------------

    def register_client(self, metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        """What fetching a confidential client's metadata and JWKS would find."""
        self.clients[metadata["client_id"]] = Client(
            metadata["client_id"], list(metadata["redirect_uris"]), metadata["scope"], jwks["keys"]
        )

    def token_of(self, access_token: str) -> AccessToken | None:
        token = self.access.get(access_token)
        if token is None or token.grant.revoked:
            return None
        return token

    def expire_all(self) -> None:
        for token in self.access.values():
            token.expires_at = self.now() - timedelta(seconds=1)

    # ---- endpoints -------------------------------------------------------------------

    async def metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer_override or self.issuer,
                "pushed_authorization_request_endpoint": f"{self.url}/oauth/par",
                "authorization_endpoint": f"{self.url}/oauth/authorize",
                "token_endpoint": f"{self.url}/oauth/token",
                "revocation_endpoint": f"{self.url}/oauth/revoke",
                "require_pushed_authorization_requests": True,
                "authorization_response_iss_parameter_supported": True,
                "dpop_signing_alg_values_supported": ["ES256"],
                "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
                "code_challenge_methods_supported": ["S256"],
                "client_id_metadata_document_supported": True,
                "scopes_supported": ["atproto", "transition:generic"],
                **self.metadata_changes,
            }
        )

    def _error(self, error: str, description: str, status: int = 400) -> web.Response:
        self.refusals.append(f"{error}: {description}")
        return web.json_response(
            {"error": error, "error_description": description},
            status=status,
            headers={"DPoP-Nonce": self.dpop.next_nonce()},
        )

    def _ok(self, body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(
            body, status=status, headers={"DPoP-Nonce": self.dpop.next_nonce()}
        )

    def _client(self, form: dict[str, str]) -> Client:
        """The authenticated client of a form; ``ValueError`` with the reason if not."""
        client_id = form.get("client_id", "")
        if client_id.startswith("http://localhost"):
            if "client_assertion" in form:
                raise ValueError("a loopback client has no key")
            query = parse_qs(urlsplit(client_id).query)
            return Client(
                client_id,
                query.get("redirect_uri", ["http://127.0.0.1/"]),
                " ".join(query.get("scope", ["atproto"])),
            )
        client = self.clients.get(client_id)
        if client is None:
            raise ValueError("unknown client")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise ValueError("client assertion type missing")
        assertion = form.get("client_assertion", "")
        kid = _header(assertion).get("kid")
        keys = [k for k in client.jwks if k.get("kid") == kid]
        if not keys:
            raise ValueError("client assertion signed by an unknown key")
        _, claims = verify_jwt(assertion, public_key_from_jwk(_public(keys[0])))
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise ValueError("client assertion iss/sub is not the client")
        if claims.get("aud") != self.issuer:
            raise ValueError("client assertion aud is not this issuer")
        now = self.now().timestamp()
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now:
            raise ValueError("client assertion expired")
        jti = claims.get("jti")
        if not isinstance(jti, str) or jti in self.assertion_jtis:
            raise ValueError("client assertion replayed")
        self.assertion_jtis.add(jti)
        return client

    async def _form(self, request: web.Request) -> dict[str, str]:
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    async def par(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        try:
            jkt = self.dpop.check(request)
        except DpopRefused as refused:
            return self._error(refused.error, refused.description)
        try:
            client = self._client(form)
        except ValueError as exc:
            return self._error("invalid_client", str(exc), 401)
        if form.get("response_type") != "code":
            return self._error("unsupported_response_type", "code only")
        if (
            form.get("code_challenge_method") != "S256"
            or len(form.get("code_challenge", "")) != 43
        ):
            return self._error("invalid_request", "PKCE S256 required")
        if form.get("redirect_uri") not in client.redirect_uris:
            return self._error("invalid_request", "redirect_uri not registered")
        scopes = form.get("scope", "").split()
        if "atproto" not in scopes or not set(scopes) <= set(client.scope.split()):
            return self._error("invalid_scope", "scope not allowed")
        if not form.get("state"):
            return self._error("invalid_request", "state required")
        request_uri = f"urn:ietf:params:oauth:request_uri:req-{secrets.token_hex(16)}"
        self.pushed[request_uri] = Pushed(
            client.client_id,
            form["redirect_uri"],
            " ".join(scopes),
            form["state"],
            form["code_challenge"],
            jkt,
            form.get("login_hint", ""),
            self.now() + timedelta(seconds=300),
        )
        return self._ok({"request_uri": request_uri, "expires_in": 300}, 201)

    async def authorize(self, request: web.Request) -> web.Response:
        pushed = self.pushed.pop(request.query.get("request_uri", ""), None)
        if pushed is None or pushed.client_id != request.query.get("client_id"):
            return web.Response(status=400, text="unknown request_uri")
        did = self.approve or self.resolve_hint(pushed.login_hint)
        if did is None:
            return web.Response(status=400, text="nobody to log in")
        code = secrets.token_urlsafe(24)
        self.codes[code] = Code(pushed, did)
        query = urlencode(
            {"code": code, "state": pushed.state, "iss": self.redirect_issuer or self.issuer}
        )
        raise web.HTTPFound(f"{pushed.redirect_uri}?{query}")

    async def token(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        try:
            jkt = self.dpop.check(request)
        except DpopRefused as refused:
            return self._error(refused.error, refused.description)
        try:
            client = self._client(form)
        except ValueError as exc:
            return self._error("invalid_client", str(exc), 401)
        if form.get("grant_type") == "authorization_code":
            return self._exchange(form, client, jkt)
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form, client, jkt)
        return self._error("unsupported_grant_type", "unknown grant type")

    def _exchange(self, form: dict[str, str], client: Client, jkt: str) -> web.Response:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used:
            return self._error("invalid_grant", "unknown or used code")
        code.used = True
        pushed = code.pushed
        if pushed.client_id != client.client_id or pushed.redirect_uri != form.get("redirect_uri"):
            return self._error("invalid_grant", "client or redirect_uri differs")
        verifier = form.get("code_verifier", "")
        if not verifier or _s256(verifier) != pushed.challenge:
            return self._error("invalid_grant", "PKCE verifier missing or wrong")
        if jkt != pushed.jkt:
            return self._error("invalid_dpop_proof", "DPoP key differs from the PAR's")
        grant = Grant(code.did, client.client_id, jkt, pushed.scope, "")
        self.grants.append(grant)
        return self._issue(grant)

    def _refresh(self, form: dict[str, str], client: Client, jkt: str) -> web.Response:
        presented = form.get("refresh_token", "")
        spent = self.spent_refresh.get(presented)
        if spent is not None:  # a replayed refresh token: the grant is compromised
            spent.revoked = True
            return self._error("invalid_grant", "refresh token reused")
        grant = self.refresh.pop(presented, None)
        if grant is None or grant.revoked:
            return self._error("invalid_grant", "unknown refresh token")
        if grant.client_id != client.client_id:
            return self._error("invalid_grant", "another client's token")
        if grant.jkt != jkt:
            return self._error("invalid_dpop_proof", "DPoP key differs from the grant's")
        self.spent_refresh[presented] = grant
        return self._issue(grant)

    def _issue(self, grant: Grant) -> web.Response:
        access = f"test-access-{secrets.token_hex(12)}"
        grant.refresh_token = f"test-refresh-{secrets.token_hex(12)}"
        self.refresh[grant.refresh_token] = grant
        self.access[access] = AccessToken(
            grant, self.now() + timedelta(seconds=self.token_lifetime)
        )
        return self._ok(
            {
                "access_token": access,
                "token_type": "DPoP",
                "refresh_token": grant.refresh_token,
                "expires_in": self.token_lifetime,
                "scope": grant.scope,
                "sub": self.sub_override or grant.did,
            }
        )

    async def revoke(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        try:
            self.dpop.check(request)
        except DpopRefused as refused:
            return self._error(refused.error, refused.description)
        try:
            client = self._client(form)
        except ValueError as exc:
            return self._error("invalid_client", str(exc), 401)
        token = form.get("token", "")
        grant = self.refresh.get(token) or getattr(self.access.get(token), "grant", None)
        if grant is not None and grant.client_id == client.client_id:
            grant.revoked = True
        return self._ok({})  # RFC 7009: unknown tokens are fine


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    try:
        value = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"}
