"""OAuth 2.0 pieces shared by the network adapters: PKCE (S256) and token responses.

Both X and Mastodon use the authorization code flow with PKCE; the verifier is kept
server-side in the OAuth state data, never in a URL or a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bot.domain.account import TokenSet


def new_verifier() -> str:
    """A PKCE code verifier: 86 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge of ``verifier``: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_query(
    *, client_id: str, redirect_uri: str, scope: str, state: str
) -> tuple[str, str]:
    """The query string of an authorization code request with PKCE, and its new verifier."""
    verifier = new_verifier()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    return query, verifier


def token_set_from(
    body: Mapping[str, Any], now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """Read a token endpoint's JSON answer; keep the old refresh token if none came back."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise ValueError("token response without an access_token")
    expires_in = body.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = now + timedelta(seconds=int(expires_in))
    refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=expires_at,
        scope=str(body.get("scope", previous.scope if previous else "")),
    )
