"""AT Protocol identity: handle -> DID -> DID document -> PDS -> authorization server.

A supporter types a handle (``alice.bsky.social``, ``@alice.example.com``) or a DID. Every
step of the chain names a host chosen by someone else (the handle's domain, the DID
document, the PDS), so every fetch goes through ``GuardedHttp`` (private-address guard,
size cap, one deadline, no redirects), and every address read from a document must be a
plain ``https`` origin (``http`` only with BLUESKY_ALLOW_PRIVATE_HOSTS, for tests and local
development). A handle counts only when it points at the DID and the DID document names it
back (bidirectional check). The same chain is walked again after the token exchange, from
the DID the authorization server names, to make sure that server really speaks for it.

Handles resolve over HTTPS (``/.well-known/atproto-did``); a handle published only in a
DNS TXT record is asked of the configured AppView (``com.atproto.identity.resolveHandle``),
whose answer the bidirectional check then confirms.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.domain.errors import DomainError, InvalidInput

from .guarded_http import Answer, BodyTooLarge, GuardedHttp, PrivateAddress

MAX_HANDLE = 253
MAX_DID = 2048
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PLC = re.compile(r"^did:plc:[a-z2-7]{24}$")
_WEB = re.compile(r"^did:web:[a-zA-Z0-9._%-]+$")
_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)

HandleUrl = Callable[[str], URL]


def well_known_did_url(handle: str) -> URL:
    """Where a handle's domain publishes its DID over HTTPS."""
    return URL.build(scheme="https", host=handle, path="/.well-known/atproto-did")


@dataclass(frozen=True)
class Identity:
    """A DID, its verified handle (or the DID when none checks out) and its PDS origin."""

    did: str
    handle: str
    pds: str


@dataclass(frozen=True)
class AuthServer:
    """An authorization server's metadata, the parts Chorus uses."""

    issuer: str
    par_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None


def normalise_handle(typed: str) -> str:
    """A handle (lower-case ASCII) or a DID from what a supporter typed; InvalidInput if not."""
    raw = typed.strip()
    if not raw:
        raise InvalidInput("web.bluesky.instance_missing")
    shown = raw[:40] + ("…" if len(raw) > 40 else "")
    value = raw
    for prefix in ("at://", "https://bsky.app/profile/"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :].split("/", 1)[0]
    value = value.removeprefix("@")
    if value.startswith("did:"):
        if is_did(value):
            return value
        raise InvalidInput("web.bluesky.handle_invalid", value=shown)
    value = value.rstrip(".").lower()
    try:
        ascii_handle = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput("web.bluesky.handle_invalid", value=shown) from exc
    if not is_handle(ascii_handle):
        raise InvalidInput("web.bluesky.handle_invalid", value=shown)
    return ascii_handle


def is_handle(value: str) -> bool:
    """AT Protocol handle syntax: two or more DNS labels, the last not starting with a digit."""
    if len(value) > MAX_HANDLE:
        return False
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return not labels[-1][0].isdigit()
    return False


def is_did(value: str) -> bool:
    return len(value) <= MAX_DID and bool(_PLC.match(value) or _WEB.match(value))


def checked_origin(value: Any, *, allow_private: bool) -> str | None:
    """``value`` as a bare origin (``https://host[:port]``), or None when it is anything else:
    another scheme, credentials, a query, a fragment or a path."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    try:
        url = URL(value)
    except ValueError:
        return None
    schemes = ("https", "http") if allow_private else ("https",)
    if (
        url.scheme not in schemes
        or not url.raw_host
        or url.user is not None
        or url.password is not None
        or url.query_string
        or url.raw_fragment
        or url.raw_path not in ("", "/")
    ):
        return None
    return str(url.origin())


class IdentityResolver:
    """Walks the identity chain over one guarded HTTP session."""

    def __init__(
        self,
        http: GuardedHttp,
        *,
        directory_url: str,
        appview_url: str,
        allow_private: bool,
        handle_url: HandleUrl = well_known_did_url,
    ) -> None:
        self._http = http
        self._directory = directory_url.rstrip("/")
        self._appview = appview_url.rstrip("/")
        self._allow_private = allow_private
        self._handle_url = handle_url

    # ---- the chain ---------------------------------------------------------------------

    async def resolve(self, typed: str) -> Identity:
        """The identity a supporter typed (a handle or a DID), checked both ways."""
        value = normalise_handle(typed)
        if value.startswith("did:"):
            return await self.identity_of(value)
        did = await self.resolve_handle(value)
        document = await self.did_document(did)
        if value not in handles_in(document):
            raise InvalidInput("web.bluesky.handle_unknown", handle=value)
        return Identity(did=did, handle=value, pds=self._pds_of(document))

    async def identity_of(self, did: str) -> Identity:
        """A DID's PDS, and its handle when that handle points back at it."""
        document = await self.did_document(did)
        handle = did
        for candidate in handles_in(document)[:3]:
            try:
                if await self.resolve_handle(candidate) == did:
                    handle = candidate
                    break
            except DomainError:
                continue
        return Identity(did=did, handle=handle, pds=self._pds_of(document))

    async def resolve_handle(self, handle: str) -> str:
        """The DID a handle names: over HTTPS at its domain, else through the AppView."""
        try:
            answer = await self._get(self._handle_url(handle), handle)
        except InvalidInput:
            raise
        except DomainError:
            answer = None
        if answer is not None and answer.status == 200:
            text = answer.body[: MAX_DID + 2].decode("utf-8", "replace").strip()
            if is_did(text):
                return text
        url = URL(f"{self._appview}/xrpc/com.atproto.identity.resolveHandle")
        answer = await self._get(url.with_query(handle=handle), handle)
        body = answer.json() if answer.status == 200 else None
        did = body.get("did") if isinstance(body, dict) else None
        if isinstance(did, str) and is_did(did):
            return did
        raise InvalidInput("web.bluesky.handle_unknown", handle=handle)

    async def did_document(self, did: str) -> dict[str, Any]:
        """The DID document of a ``did:plc`` (from the directory) or a ``did:web``."""
        if not is_did(did):
            raise InvalidInput("web.bluesky.handle_invalid", value=did[:40])
        if did.startswith("did:plc:"):
            url = URL(f"{self._directory}/{quote(did, safe=':')}")
        else:
            host = did.removeprefix("did:web:").replace("%3A", ":").replace("%3a", ":")
            scheme = "http" if self._allow_private and ":" in host else "https"
            try:
                url = URL(f"{scheme}://{host}/.well-known/did.json")
            except ValueError as exc:
                raise InvalidInput("web.bluesky.handle_invalid", value=did[:40]) from exc
        answer = await self._get(url, did)
        document = answer.json() if answer.status == 200 else None
        if not isinstance(document, dict) or document.get("id") != did:
            raise DomainError("web.bluesky.misbehaved", handle=did)
        return document

    async def authorization_server(self, pds: str) -> AuthServer:
        """The authorization server a PDS names, and its metadata, checked."""
        answer = await self._get(URL(f"{pds}/.well-known/oauth-protected-resource"), pds)
        resource = answer.json() if answer.status == 200 else None
        servers = resource.get("authorization_servers") if isinstance(resource, dict) else None
        if not isinstance(servers, list) or not servers:
            raise DomainError("web.bluesky.misbehaved", handle=pds)
        issuer = checked_origin(servers[0], allow_private=self._allow_private)
        if issuer is None:
            raise DomainError("web.bluesky.misbehaved", handle=pds)
        answer = await self._get(URL(f"{issuer}/.well-known/oauth-authorization-server"), pds)
        meta = answer.json() if answer.status == 200 else None
        return self._server(meta, issuer, pds)

    # ---- checks --------------------------------------------------------------------------

    def _pds_of(self, document: dict[str, Any]) -> str:
        services = document.get("service")
        for service in services if isinstance(services, list) else []:
            if (
                isinstance(service, dict)
                and str(service.get("id", "")).endswith("#atproto_pds")
                and service.get("type") == "AtprotoPersonalDataServer"
            ):
                origin = checked_origin(
                    service.get("serviceEndpoint"), allow_private=self._allow_private
                )
                if origin is not None:
                    return origin
        raise DomainError("web.bluesky.misbehaved", handle=str(document.get("id", ""))[:60])

    def _server(self, meta: Any, issuer: str, pds: str) -> AuthServer:
        """The metadata, checked: it names ``issuer`` (the address it was fetched from),
        every endpoint is on that origin, PAR, DPoP with ES256 and RFC 9207 are offered."""

        def endpoint(name: str) -> str | None:
            value = meta.get(name) if isinstance(meta, dict) else None
            if not isinstance(value, str):
                return None
            try:
                url = URL(value)
                same = url.absolute and str(url.origin()) == issuer  # the server's own
            except ValueError:
                return None
            return value if same and not url.query_string and not url.raw_fragment else None

        par, authorize, token = (
            endpoint("pushed_authorization_request_endpoint"),
            endpoint("authorization_endpoint"),
            endpoint("token_endpoint"),
        )
        if (
            not isinstance(meta, dict)
            or meta.get("issuer") != issuer
            or par is None
            or authorize is None
            or token is None
            or "ES256" not in (meta.get("dpop_signing_alg_values_supported") or [])
            or meta.get("authorization_response_iss_parameter_supported") is not True
        ):
            raise DomainError("web.bluesky.misbehaved", handle=pds)
        return AuthServer(issuer, par, authorize, token, endpoint("revocation_endpoint"))

    async def _get(self, url: URL, about: str) -> Answer:
        """GET within the guards; a failure becomes a message about what the supporter typed."""
        try:
            return await self._http.request("GET", url, headers={"Accept": "application/json"})
        except PrivateAddress as exc:
            raise InvalidInput("web.bluesky.handle_private", handle=about) from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise DomainError("web.bluesky.unreachable", handle=about) from exc
        except (TimeoutError, BodyTooLarge) as exc:
            raise DomainError("web.bluesky.misbehaved", handle=about) from exc
        except _ERRORS as exc:
            raise DomainError("web.bluesky.unreachable", handle=about) from exc


def handles_in(document: dict[str, Any]) -> list[str]:
    """The handles a DID document claims (``alsoKnownAs: at://handle``), valid ones only."""
    names = document.get("alsoKnownAs")
    found = []
    for name in names if isinstance(names, list) else []:
        if isinstance(name, str) and name.startswith("at://"):
            handle = name.removeprefix("at://").lower()
            if is_handle(handle):
                found.append(handle)
    return found
