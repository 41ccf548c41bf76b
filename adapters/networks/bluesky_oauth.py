"""Linking a Bluesky account: AT Protocol OAuth (PAR, PKCE S256, DPoP, private_key_jwt).

The supporter types a handle; Chorus walks handle -> DID -> PDS -> authorization server
(``atproto_identity``), pushes the authorization request (PAR) with a PKCE S256 challenge,
signed with a fresh DPoP key for this grant, and sends the supporter to the server with the
``request_uri`` it got back. On the way back the callback's ``iss`` must name that server
(RFC 9207); the code is traded for DPoP-bound tokens; the DID they name (``sub``) must be
the one asked for, and the chain is walked again from it: its PDS must still name this
server. Tokens are refreshed and revoked with the same DPoP key, which is kept with them
(``TokenSet.binding``, encrypted at rest) together with the server's endpoints.

Chorus is a confidential client when BLUESKY_CLIENT_KEY holds a private P-256 key: its
client metadata and JWKS are served from ``{PUBLIC_URL}/oauth/bluesky/…`` (``documents``),
and every call to the token endpoints carries a signed client assertion. With no key and a
loopback PUBLIC_URL (local development) it is the loopback public client the protocol
defines, which needs no hosting. Scopes are the least the delivery mode needs: ``tap``
asks for the identity only (``atproto``), ``auto`` adds creating posts, nothing else.

No OAuth library is used: the young AT Protocol OAuth packages bring their own HTTP client
(redirects followed, addresses checked by URL only), where every request here must go
through ``GuardedHttp``; the signing is ``atproto_dpop`` over ``cryptography``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from bot.clock import SystemClock
from bot.domain.account import LinkedProfile, SocialAccount, TokenSet, follower_count
from bot.domain.errors import DomainError
from bot.domain.networks import DeliveryMode, Network
from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.ports import Clock, NetworkFailure, Repository
from bot.settings import Settings, SettingsError

from .atproto_dpop import (
    ASSERTION_TYPE,
    GENERATE_COMMAND,
    EcKey,
    UnreadableKey,
    client_assertion,
    dpop_proof,
)
from .atproto_identity import (
    HandleUrl,
    IdentityResolver,
    checked_origin,
    is_did,
    well_known_did_url,
)
from .guarded_http import (
    MAX_JSON,
    AddressRule,
    Answer,
    GuardedHttp,
    Lookup,
    allow_any,
    system_lookup,
)
from .instances import is_public
from .mastodon_post import failure_outcome
from .oauth import challenge_of, new_verifier, token_set_from

log = logging.getLogger(__name__)

BLUESKY = Network("bluesky")
SCOPES: Mapping[DeliveryMode, tuple[str, ...]] = {
    DeliveryMode.TAP: ("atproto",),
    DeliveryMode.AUTO: ("atproto", "repo:app.bsky.feed.post?action=create"),
}
CLIENT_METADATA = "client-metadata"
JWKS = "jwks"
CLIENT_NAME = "Chorus"
REFRESH_MARGIN = timedelta(minutes=5)
_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1", "localhost")
MAX_NONCE = 512
MAX_SERVERS = 10_000  # nonces kept, one per server
MAX_REMEMBERED = 10_000  # accounts whose refreshed tokens are remembered


@dataclass(frozen=True)
class Grant:
    """What a grant's tokens are bound to: the DPoP key, whose grant, and where to use it.

    Kept as ``TokenSet.binding`` (JSON text, encrypted at rest); ``repr`` hides the key.
    """

    key: EcKey
    did: str
    pds: str
    issuer: str
    token_endpoint: str
    revocation_endpoint: str | None

    def __repr__(self) -> str:
        return f"Grant(did={self.did!r}, pds={self.pds!r}, issuer={self.issuer!r})"

    def to_text(self) -> str:
        return json.dumps(
            {
                "key": self.key.private_jwk(),
                "did": self.did,
                "pds": self.pds,
                "iss": self.issuer,
                "token_endpoint": self.token_endpoint,
                "revocation_endpoint": self.revocation_endpoint,
            },
            separators=(",", ":"),
        )

    @classmethod
    def of(cls, tokens: TokenSet) -> Grant:
        """The grant bound to ``tokens``; ``NetworkFailure`` (revoked) when none is."""
        try:
            data = json.loads(tokens.binding or "")
            return cls(
                key=EcKey.from_jwk(data["key"]),
                did=str(data["did"]),
                pds=str(data["pds"]),
                issuer=str(data["iss"]),
                token_endpoint=str(data["token_endpoint"]),
                revocation_endpoint=data.get("revocation_endpoint"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.REVOKED, reason="no DPoP key bound to the tokens")
            ) from exc


def _refused(answer: Answer) -> str:
    """The OAuth ``error`` of an answer, for the log (never the body: it may echo secrets)."""
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    return f"{answer.status} {error}" if isinstance(error, str) else str(answer.status)


def needs_nonce(answer: Answer) -> bool:
    """The server asks for a fresh DPoP nonce (RFC 9449 §8, §9)."""
    if answer.status == 400:
        body = answer.json()
        return isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
    if answer.status == 401:
        return 'error="use_dpop_nonce"' in answer.headers.get("WWW-Authenticate", "")
    return False


class DpopSender:
    """DPoP-bound requests over one guarded session, with each server's latest nonce.

    A server hands out nonces in ``DPoP-Nonce`` and refuses a proof without its current one;
    the sender keeps the last nonce per origin and retries once when told to.
    """

    def __init__(self, http: GuardedHttp, clock: Clock) -> None:
        self.http = http
        self._clock = clock
        self._nonces: dict[str, str] = {}

    async def send(
        self,
        method: str,
        url: str,
        key: EcKey,
        *,
        form: Callable[[], dict[str, str]] | None = None,
        body: bytes | None = None,
        access_token: str | None = None,
    ) -> Answer:
        """One request with a fresh proof; a fresh ``form`` (new client assertion) per try.

        Raises what ``GuardedHttp.request`` raises."""
        target = URL(url)
        origin = str(target.origin())
        answer: Answer | None = None
        for _ in range(2):
            headers = {
                "DPoP": dpop_proof(
                    key,
                    method=method,
                    url=url,
                    nonce=self._nonces.get(origin),
                    access_token=access_token,
                    now=self._clock.now().timestamp(),
                )
            }
            if access_token is not None:
                headers["Authorization"] = f"DPoP {access_token}"
            if body is not None:
                headers["Content-Type"] = "application/json"
            answer = await self.http.request(
                method, target, headers=headers, data=form() if form else body
            )
            nonce = answer.headers.get("DPoP-Nonce")
            if nonce and len(nonce) <= MAX_NONCE:
                if len(self._nonces) >= MAX_SERVERS and origin not in self._nonces:
                    self._nonces.clear()  # a server asks again: one extra round trip
                self._nonces[origin] = nonce
            if not (needs_nonce(answer) and nonce):
                return answer
        assert answer is not None
        return answer


@dataclass(frozen=True)
class _Latest:
    """An account's tokens refreshed here, and the access tokens they replaced."""

    tokens: TokenSet
    superseded: frozenset[str]


class BlueskyOAuth:
    """The ``AccountLinker`` for Bluesky, and the grant's refresh and revocation."""

    network = BLUESKY

    def __init__(
        self,
        settings: Settings,
        *,
        mode: DeliveryMode,
        repo: Repository | None = None,
        clock: Clock | None = None,
        deadline: float | None = None,
        max_body: int = MAX_JSON,
        lookup: Lookup = system_lookup,
        address_rule: AddressRule | None = None,
        handle_url: HandleUrl = well_known_did_url,
    ) -> None:
        """``mode`` decides the scopes (BLUESKY_DELIVERY); ``repo`` stores refreshed tokens;
        ``lookup``, ``address_rule`` and ``handle_url`` are there for tests."""
        self._settings = settings
        self._repo = repo
        self._clock: Clock = clock or SystemClock()
        self._mode = mode
        self._allow_private = settings.bluesky_allow_private_hosts
        self._public_url = settings.public_url.rstrip("/")
        self._client_key = self._read_client_key(settings)
        rule = address_rule or (allow_any if self._allow_private else is_public)

        def guarded() -> GuardedHttp:
            return GuardedHttp(
                deadline=settings.bluesky_deadline_seconds if deadline is None else deadline,
                connections=settings.blast_concurrency,
                user_agent=f"{CLIENT_NAME} (+{settings.public_url})",
                allowed=rule,
                lookup=lookup,
                max_body=max_body,
            )

        self._latest: dict[int, _Latest] = {}  # by account id: tokens refreshed here
        self._refreshing: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.link = DpopSender(guarded(), self._clock)  # the pledge form's calls
        self.grants = DpopSender(guarded(), self._clock)  # refresh, revoke, the blast's
        self.identity = IdentityResolver(
            self.link.http,
            directory_url=settings.bluesky_directory_url,
            appview_url=settings.bluesky_appview_url,
            allow_private=self._allow_private,
            handle_url=handle_url,
        )

    def _read_client_key(self, settings: Settings) -> EcKey | None:
        secret = settings.bluesky_client_key
        if secret is None or not secret.get_secret_value().strip():
            host = URL(self._public_url).raw_host
            if host == "localhost":  # the protocol wants the loopback address itself
                raise SettingsError(
                    "for local development without BLUESKY_CLIENT_KEY, PUBLIC_URL must name "
                    "127.0.0.1 (or [::1]), not localhost: http://127.0.0.1:PORT"
                )
            if host not in _LOOPBACK_HOSTS:
                raise SettingsError(
                    "BLUESKY_CLIENT_KEY is needed when PUBLIC_URL is not a loopback address "
                    f"(make one with: {GENERATE_COMMAND})"
                )
            return None
        try:
            return EcKey.from_text(secret.get_secret_value())
        except UnreadableKey as exc:
            raise SettingsError(
                "BLUESKY_CLIENT_KEY is not a private P-256 key as a JWK or PEM "
                f"(make one with: {GENERATE_COMMAND})"
            ) from exc

    async def aclose(self) -> None:
        await self.grants.http.aclose()
        await self.link.http.aclose()

    def close(self) -> None:
        self.grants.http.close_soon()
        self.link.http.close_soon()

    # ---- the client's identity ---------------------------------------------------------

    @property
    def allow_private(self) -> bool:
        """BLUESKY_ALLOW_PRIVATE_HOSTS: plain http and private addresses, for tests only."""
        return self._allow_private

    @property
    def scope(self) -> str:
        return " ".join(SCOPES[self._mode])

    @property
    def redirect_uri(self) -> str:
        return f"{self._public_url}/oauth/{BLUESKY}/callback"

    @property
    def confidential(self) -> bool:
        return self._client_key is not None

    @property
    def client_id(self) -> str:
        """The URL of the client metadata, or the loopback client's ``http://localhost?…``."""
        if self._client_key is not None:
            return f"{self._public_url}/oauth/{BLUESKY}/{CLIENT_METADATA}.json"
        query = urlencode({"redirect_uri": self.redirect_uri, "scope": self.scope})
        return f"http://localhost?{query}"

    def documents(self) -> dict[str, dict[str, Any]]:
        """What the web app serves at ``/oauth/bluesky/<name>.json`` (none for loopback)."""
        if self._client_key is None:
            return {}
        return {
            CLIENT_METADATA: {
                "client_id": self.client_id,
                "client_name": CLIENT_NAME,
                "client_uri": self._public_url,
                "application_type": "web",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": [self.redirect_uri],
                "scope": " ".join(dict.fromkeys(s for m in SCOPES.values() for s in m)),
                "dpop_bound_access_tokens": True,
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks_uri": f"{self._public_url}/oauth/{BLUESKY}/{JWKS}.json",
            },
            JWKS: {"keys": [self._client_key.public_jwk()]},
        }

    def _client_form(self, issuer: str, fields: dict[str, str]) -> Callable[[], dict[str, str]]:
        """The form with the client's authentication, a fresh assertion each time."""

        def form() -> dict[str, str]:
            full = {**fields, "client_id": self.client_id}
            if self._client_key is not None:
                full["client_assertion_type"] = ASSERTION_TYPE
                full["client_assertion"] = client_assertion(
                    self._client_key,
                    client_id=self.client_id,
                    audience=issuer,
                    now=self._clock.now().timestamp(),
                )
            return full

        return form

    # ---- AccountLinker -----------------------------------------------------------------

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        """Resolve the typed handle, push the request, and say where to send the supporter."""
        who = await self.identity.resolve(instance or "")
        server = await self.identity.authorization_server(who.pds)
        key = EcKey.generate()
        verifier = new_verifier()
        fields = {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self.scope,
            "state": state,
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
            "login_hint": who.handle if who.handle != who.did else who.did,
        }
        try:
            answer = await self.link.send(
                "POST", server.par_endpoint, key, form=self._client_form(server.issuer, fields)
            )
        except _ERRORS as exc:
            raise DomainError("web.bluesky.unreachable", handle=who.handle) from exc
        body = answer.json()
        request_uri = body.get("request_uri") if isinstance(body, dict) else None
        if answer.status not in (200, 201) or not isinstance(request_uri, str):
            log.info("Bluesky server %s refused the PAR (%s)", server.issuer, _refused(answer))
            raise DomainError("web.error.authorisation_failed", network="Bluesky")
        query = urlencode({"client_id": self.client_id, "request_uri": request_uri})
        grant = Grant(
            key, who.did, who.pds, server.issuer, server.token_endpoint, server.revocation_endpoint
        )
        return f"{server.authorization_endpoint}?{query}", {
            "grant": grant.to_text(),
            "verifier": verifier,
            "handle": who.handle,
        }

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfile:
        """Check the callback's issuer, trade the code, and check whose tokens they are."""
        grant = Grant.of(TokenSet("", binding=str(data.get("grant", ""))))
        if data.get("callback_issuer") != grant.issuer:  # RFC 9207: mix-up defence
            log.info("Bluesky callback named another issuer than %s", grant.issuer)
            raise DomainError("web.error.authorisation_failed", network="Bluesky")
        fields = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": str(data.get("verifier", "")),
        }
        answer = await self._token_call(grant, fields, self.link)
        if 400 <= answer.status < 500:
            log.info("Bluesky %s refused the code (%s)", grant.issuer, _refused(answer))
            raise DomainError("web.error.authorisation_failed", network="Bluesky")
        try:
            tokens = self._tokens(answer, grant, None)
        except DomainError:  # tokens Chorus did not ask for: end them, keep nothing
            await self._revoke_unread(answer, grant)
            raise
        try:
            return await self._profile(grant, tokens, str(data.get("handle", "")))
        except Exception:  # the tokens would be lost with the profile: revoke them first
            with suppress(Exception):
                await self._revoke(tokens, self.link)
            raise

    async def _revoke_unread(self, answer: Answer, grant: Grant) -> None:
        body = answer.json()
        if not isinstance(body, dict):
            return
        access, refresh = body.get("access_token"), body.get("refresh_token")
        tokens = TokenSet(
            access_token=access if isinstance(access, str) else "",
            refresh_token=refresh if isinstance(refresh, str) else None,
            binding=grant.to_text(),
        )
        with suppress(Exception):  # best effort: the refusal is what counts here
            await self._revoke(tokens, self.link)

    async def _profile(self, grant: Grant, tokens: TokenSet, typed: str) -> LinkedProfile:
        """Walk the chain again from the DID the server named: it must speak for it."""
        try:
            who = await self.identity.identity_of(grant.did)
            server = await self.identity.authorization_server(who.pds)
        except DomainError as exc:
            raise DomainError("web.error.authorisation_failed", network="Bluesky") from exc
        if server.issuer != grant.issuer:
            log.warning("Bluesky server %s answered for a DID it does not serve", grant.issuer)
            raise DomainError("web.error.authorisation_failed", network="Bluesky")
        return LinkedProfile(
            network=BLUESKY,
            instance=URL(who.pds).host or who.pds,
            remote_id=who.did,
            handle=(who.handle if who.handle != who.did else typed or who.did)[:253],
            followers=await self._followers(who.did),
            tokens=tokens,
        )

    async def _followers(self, did: str) -> int:
        """Followers for reach, from the public AppView's profile (0 when it cannot say)."""
        url = URL(
            f"{self._settings.bluesky_appview_url.rstrip('/')}/xrpc/app.bsky.actor.getProfile"
        )
        try:
            answer = await self.link.http.request("GET", url.with_query(actor=did))
        except _ERRORS:
            log.info("Bluesky AppView unreachable for a profile; counting 0 followers")
            return 0
        body = answer.json() if answer.status == 200 else None
        return follower_count(body.get("followersCount") if isinstance(body, dict) else 0)

    # ---- tokens ------------------------------------------------------------------------

    async def _token_call(self, grant: Grant, fields: dict[str, str], via: DpopSender) -> Answer:
        try:
            return await via.send(
                "POST",
                grant.token_endpoint,
                grant.key,
                form=self._client_form(grant.issuer, fields),
            )
        except _ERRORS as exc:
            raise NetworkFailure(failure_outcome(exc)) from exc

    def _tokens(self, answer: Answer, grant: Grant, previous: TokenSet | None) -> TokenSet:
        """The tokens of a 200 answer, checked: DPoP-bound, for the grant's DID and scope."""
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict):
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"token endpoint {answer.status}")
            )
        granted = str(body.get("scope", "")).split()
        if (
            body.get("token_type") != "DPoP"
            or body.get("sub") != grant.did
            or not is_did(grant.did)
            or "atproto" not in granted
        ):
            log.warning("Bluesky server %s gave tokens Chorus did not ask for", grant.issuer)
            raise DomainError("web.error.authorisation_failed", network="Bluesky")
        try:
            tokens = token_set_from(body, self._clock.now(), previous)
        except ValueError as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable token response")
            ) from exc
        return TokenSet(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            scope=tokens.scope,
            binding=grant.to_text(),
        )

    async def refresh_tokens(self, tokens: TokenSet) -> TokenSet:
        """New tokens for a grant (its refresh token is spent); ``NetworkFailure`` if not."""
        grant = Grant.of(tokens)
        if not tokens.refresh_token:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="no refresh token"))
        fields = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        answer = await self._token_call(grant, fields, self.grants)
        if 400 <= answer.status < 500:
            log.info("Bluesky %s refused a refresh (%s)", grant.issuer, _refused(answer))
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="refresh refused"))
        try:
            return self._tokens(answer, grant, tokens)
        except DomainError as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.REVOKED, reason="refresh gave foreign tokens")
            ) from exc

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """``SocialNetwork.refresh`` (the blast asks before a launch, for tokens that would
        lapse by then): new tokens, stored at once, since the old refresh token is spent."""
        return await self.refresh_grant(account, self.current_tokens(account))

    def current_tokens(self, account: SocialAccount) -> TokenSet:
        """The account's latest tokens: those refreshed here when ``account`` holds older
        ones of the same grant (its refresh token is spent), else its own."""
        latest = self._latest.get(account.id) if account.id is not None else None
        if latest is not None and account.tokens.access_token in latest.superseded:
            return latest.tokens
        return account.tokens

    async def refresh_grant(self, account: SocialAccount, used: TokenSet) -> TokenSet:
        """Replace ``used``, the account's tokens a caller found stale, once: callers that
        come together share one refresh (a refresh token works once); the new tokens are
        stored before anyone gets them."""
        if account.id is None:
            return await self.refresh_tokens(used)
        lock = self._refreshing.get(account.id)
        if lock is None:
            lock = self._refreshing[account.id] = asyncio.Lock()
        async with lock:
            current = self.current_tokens(account)
            if current.access_token != used.access_token:  # refreshed meanwhile
                return current
            fresh = await self.refresh_tokens(used)
            if self._repo is not None:
                await self._repo.update_tokens(account.id, fresh)
            if len(self._latest) >= MAX_REMEMBERED and account.id not in self._latest:
                self._latest.clear()
            kept = self._latest.get(account.id)
            superseded = (kept.superseded if kept else frozenset()) | {
                account.tokens.access_token,
                used.access_token,
            }
            self._latest[account.id] = _Latest(fresh, frozenset(superseded))
            return fresh

    async def revoke(self, account: SocialAccount) -> None:
        """``SocialNetwork.revoke``: revoke the grant; ``NetworkFailure`` unless confirmed."""
        await self._revoke(account.tokens, self.grants)

    async def _revoke(self, tokens: TokenSet, via: DpopSender) -> None:
        grant = Grant.of(tokens)
        if grant.revocation_endpoint is None:  # the server cannot revoke: tokens lapse
            log.info("Bluesky %s has no revocation endpoint", grant.issuer)
            return
        endpoint = grant.revocation_endpoint
        for token in (tokens.refresh_token, tokens.access_token):
            if not token:
                continue
            try:
                answer = await via.send(
                    "POST",
                    endpoint,
                    grant.key,
                    form=self._client_form(grant.issuer, {"token": token}),
                )
            except _ERRORS as exc:
                raise NetworkFailure(failure_outcome(exc)) from exc
            if answer.status != 200:
                kind = OutcomeKind.NETWORK_DOWN if answer.status >= 500 else OutcomeKind.REJECTED
                raise NetworkFailure(PostOutcome(kind, reason=f"revoke answered {answer.status}"))


def pds_origin(grant: Grant, *, allow_private: bool) -> str:
    """The grant's PDS as a checked origin (it came from a DID document)."""
    origin = checked_origin(grant.pds, allow_private=allow_private)
    if origin is None:
        raise NetworkFailure(PostOutcome(OutcomeKind.REJECTED, reason="PDS address refused"))
    return origin
