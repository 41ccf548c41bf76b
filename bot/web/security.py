"""Browser protections for the pledge pages: headers, cookies and form checks.

The pledge token in the path already proves who may act; a double-submit form nonce
(a cookie plus a hidden field, SameSite=Strict) stops cross-site form posts, and a
HttpOnly cookie binds the OAuth round trip to the browser that started it.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from bot.services.pledge_flow import STATE_TTL

FORM_COOKIE = "chorus_form"
STATE_COOKIE = "chorus_oauth"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


FRAMABLE = web.ResponseKey("chorus_framable", bool)  # may be shown inside other sites


def allow_framing(response: web.StreamResponse, ancestors: str) -> None:
    """Let the sites ``ancestors`` names (a CSP source list such as ``*``) frame ``response``:
    its own ``frame-ancestors`` policy and no ``X-Frame-Options: DENY``."""
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )
    response[FRAMABLE] = True


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, error pages and static files included, carries these headers; only a
    response ``allow_framing`` marked goes without ``X-Frame-Options``."""
    framable = response.get(FRAMABLE, False)
    for name, value in SECURITY_HEADERS.items():
        if not (framable and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def form_nonce(request: web.Request) -> str:
    """The browser's form nonce: reuse its cookie if it has one, so tabs do not clash."""
    current = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(current) <= 64 and current.replace("-", "").replace("_", "").isalnum():
        return current
    return secrets.token_urlsafe(24)


def set_form_cookie(
    response: web.StreamResponse, nonce: str, *, secure: bool, path: str = "/pledge/"
) -> None:
    response.set_cookie(
        FORM_COOKIE, nonce, path=path, httponly=True, samesite="Strict", secure=secure
    )


def form_nonce_ok(request: web.Request, submitted: str) -> bool:
    cookie = request.cookies.get(FORM_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())


def origin_ok(request: web.Request, public_url: str) -> bool:
    """A browser that names an Origin must name ours (the public one or the one it reached).

    Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null``; the form nonce
    (a SameSite=Strict cookie) is then the check that counts.
    """
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    public = "/".join(public_url.split("/")[:3])
    return origin in (public, f"{request.scheme}://{request.host}")


def set_state_cookie(response: web.StreamResponse, state: str, *, secure: bool) -> None:
    response.set_cookie(
        STATE_COOKIE,
        state,
        path="/oauth/",
        httponly=True,
        samesite="Lax",
        secure=secure,
        max_age=int(STATE_TTL.total_seconds()),
    )


def state_cookie_ok(request: web.Request, state: str) -> bool:
    cookie = request.cookies.get(STATE_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), state.encode())


def clear_state_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(STATE_COOKIE, path="/oauth/")
