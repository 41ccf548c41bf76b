"""Mastodon: any instance a supporter names, linked with OAuth + PKCE.

The supporter types an instance; it is normalised, checked against server-side request
forgery, and confirmed to be Mastodon before Chorus registers an app there (once per
instance, kept in the repository). Registering, reading the profile and the timeline,
and revoking go through Mastodon.py; it is synchronous, so those calls run on a bounded
worker pool (BLAST_CONCURRENCY threads) sharing one keep-alive requests session, never
on the event loop. Posting, the blast's hot path, goes through ``StatusPoster`` (one
shared aiohttp session; Mastodon.py's per-call cost would cap the blast). The token
exchange needs a PKCE verifier, which Mastodon.py's ``log_in`` cannot send, so that one
form post is done here with aiohttp too.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import aiohttp
import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
from requests.adapters import HTTPAdapter

from bot.clock import SystemClock
from bot.domain.account import SocialAccount, TokenSet, follower_count
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.networks import Network
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.ports import Clock, NetworkFailure, Repository
from bot.services.pledges import LinkedProfileData
from bot.settings import Settings

from .instances import ensure_public_host, normalise_instance, split_host
from .mastodon_post import DEFAULT_RETRY, NOT_PUBLIC, StatusPoster, host_allowed
from .oauth import authorization_query, token_set_from
from .threads import BlockingCalls

log = logging.getLogger(__name__)

SCOPES = ("read:accounts", "read:statuses", "write:statuses")
APP_NAME = "Chorus"
STATUS_PAGE = 40
_TAG_RE = re.compile(r"<[^>]+>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)


class MastodonNetwork:
    """Both ports for Mastodon: ``SocialNetwork`` and ``AccountLinker``."""

    network = Network.MASTODON

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        *,
        clock: Clock | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._settings = settings
        self._repo = repo
        self._clock: Clock = clock or SystemClock()
        self._timeout = timeout
        self._allow_private = settings.mastodon_allow_private_hosts
        self._calls = BlockingCalls(settings.blast_concurrency, "mastodon-api")
        self._requests = _no_redirects(settings.blast_concurrency)
        self._poster = StatusPoster(
            clock=self._clock,
            timeout=timeout,
            connections=settings.blast_concurrency,
            allow_private=self._allow_private,
            user_agent=f"{APP_NAME} (+{settings.public_url})",
        )

    async def aclose(self) -> None:
        """Close the HTTP session, the worker pool and the requests session."""
        await self._poster.aclose()
        self.close()

    def close(self) -> None:
        """The synchronous variant (the HTTP session is closed on its loop if it runs)."""
        self._poster.close_soon()
        self._calls.close()
        self._requests.close()

    # ---- addresses -----------------------------------------------------------------

    def base_url(self, instance: str) -> str:
        """``https://instance``; plain http only for private hosts in private-host mode."""
        host, port = split_host(instance)
        if self._allow_private and (port is not None or _is_local(host)):
            return f"http://{instance}"
        return f"https://{instance}"

    async def check_instance(self, typed: str) -> str:
        """Normalise what the supporter typed and make sure it is a reachable Mastodon."""
        instance = normalise_instance(typed, allow_port=self._allow_private)
        if not self._allow_private:
            await ensure_public_host(instance)
        base = self.base_url(instance)
        timeout = aiohttp.ClientTimeout(total=min(self._timeout, 15))
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for path in ("/api/v2/instance", "/api/v1/instance"):
                    async with session.get(base + path, allow_redirects=False) as response:
                        if response.status != 200:
                            continue
                        try:
                            body = await response.json(content_type=None)
                        except ValueError:
                            continue
                        if isinstance(body, dict) and isinstance(body.get("version"), str):
                            return instance
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DomainError("web.mastodon.unreachable", instance=instance) from exc
        raise InvalidInput("web.mastodon.not_mastodon", instance=instance)

    # ---- AccountLinker -------------------------------------------------------------

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        instance = await self.check_instance(instance or "")
        client_id, _ = await self._app(instance, redirect_uri)
        query, verifier = authorization_query(
            client_id=client_id, redirect_uri=redirect_uri, scope=" ".join(SCOPES), state=state
        )
        url = f"{self.base_url(instance)}/oauth/authorize?{query}"
        return url, {"instance": instance, "verifier": verifier}

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfileData:
        instance = str(data["instance"])
        app = await self._repo.get_mastodon_app(instance)
        if app is None:
            raise DomainError("web.error.authorisation_failed", network="Mastodon")
        client_id, client_secret = app
        status, body = await self._form_post(
            instance,
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": client_secret,
                "code_verifier": str(data.get("verifier", "")),
                "scope": " ".join(SCOPES),
            },
        )
        if 400 <= status < 500:
            log.info("Mastodon %s refused the authorization code (%s)", instance, status)
            raise DomainError("web.error.authorisation_failed", network="Mastodon")
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"token endpoint {status}")
            )
        tokens = token_set_from(body, self._clock.now())
        try:
            return await self._profile(instance, tokens)
        except Exception:  # the token would be lost with the profile: revoke it first
            with suppress(Exception):  # best effort: the failure is what counts here
                await self._revoke_token(instance, tokens.access_token)
            raise

    async def _profile(self, instance: str, tokens: TokenSet) -> LinkedProfileData:
        """Who the token belongs to; ``NetworkFailure`` if the instance cannot say."""
        try:
            me = await self._calls.run(
                lambda: self._api(instance, tokens.access_token).account_verify_credentials()
            )
        except Exception as exc:
            raise NetworkFailure(self._outcome(exc, None)) from exc
        return LinkedProfileData(
            network=Network.MASTODON,
            instance=instance,
            remote_id=str(me["id"]),
            handle=str(me["username"]),
            followers=follower_count(me.get("followers_count")),
            tokens=tokens,
        )

    # ---- SocialNetwork -------------------------------------------------------------

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        """Post a status; the same ``idempotency_key`` never makes a second status."""
        if not self._allow_private and not host_allowed(account.instance):
            return PostOutcome(OutcomeKind.REJECTED, reason=NOT_PUBLIC)
        return await self._poster.post(
            self.base_url(account.instance), account.tokens.access_token, text, idempotency_key
        )

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"{self.base_url(account.instance)}/share?text={quote(text, safe='')}"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        api = self._api(account.instance, account.tokens.access_token)
        try:
            statuses = await self._calls.run(
                api.account_statuses, account.remote_id, exclude_reblogs=True, limit=STATUS_PAGE
            )
        except Exception as exc:
            raise NetworkFailure(self._outcome(exc, api)) from exc
        posts = []
        for status in statuses:
            created = _aware(status["created_at"])
            if created < since:
                continue
            posts.append(
                RemotePost(
                    remote_id=str(status["id"]),
                    text=plain_text(str(status.get("content") or "")),
                    url=str(status.get("url") or status.get("uri") or ""),
                    created_at=created,
                )
            )
        return posts

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """Mastodon tokens usually never expire; refresh only when a refresh token exists."""
        if not account.tokens.refresh_token:
            return account.tokens
        app = await self._repo.get_mastodon_app(account.instance)
        if app is None:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="app unknown"))
        try:
            status, body = await self._form_post(
                account.instance,
                "/oauth/token",
                {
                    "grant_type": "refresh_token",
                    "refresh_token": account.tokens.refresh_token,
                    "client_id": app[0],
                    "client_secret": app[1],
                },
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
            ) from exc
        if 400 <= status < 500:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="refresh refused"))
        if status != 200 or not isinstance(body, dict):
            raise NetworkFailure(PostOutcome(OutcomeKind.NETWORK_DOWN, reason=str(status)))
        tokens = token_set_from(body, self._clock.now(), previous=account.tokens)
        if account.id is not None:
            await self._repo.update_tokens(account.id, tokens)
        return tokens

    async def revoke(self, account: SocialAccount) -> None:
        """Revoke the token with the instance's app; ``NetworkFailure`` when that failed."""
        await self._revoke_token(account.instance, account.tokens.access_token)

    async def _revoke_token(self, instance: str, access_token: str) -> None:
        """Revoke one access token at its instance; ``NetworkFailure`` unless confirmed."""
        app = await self._repo.get_mastodon_app(instance)
        if app is None:
            raise NetworkFailure(PostOutcome(OutcomeKind.REJECTED, reason="app unknown"))
        api = self._api(instance, access_token, app)
        try:
            await self._calls.run(api.revoke_access_token, allow_http=self._allow_private)
        except Exception as exc:
            raise NetworkFailure(self._outcome(exc, api)) from exc

    # ---- internals -----------------------------------------------------------------

    async def _app(self, instance: str, redirect_uri: str) -> tuple[str, str]:
        """This instance's app registration, created the first time it is needed."""
        known = await self._repo.get_mastodon_app(instance)
        if known is not None:
            return known
        try:
            client_id, client_secret = await self._calls.run(
                Mastodon.create_app,
                APP_NAME,
                scopes=list(SCOPES),
                redirect_uris=redirect_uri,
                website=self._settings.public_url,
                api_base_url=self.base_url(instance),
                request_timeout=self._timeout,
                session=self._requests,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("web.mastodon.not_mastodon", instance=instance) from exc
        except Exception as exc:
            raise DomainError("web.mastodon.unreachable", instance=instance) from exc
        await self._repo.save_mastodon_app(instance, client_id, client_secret)
        log.info("registered Chorus on Mastodon instance %s", instance)
        return client_id, client_secret

    def _api(
        self, instance: str, access_token: str, app: tuple[str, str] | None = None
    ) -> Mastodon:
        return Mastodon(
            client_id=app[0] if app else None,
            client_secret=app[1] if app else None,
            access_token=access_token,
            api_base_url=self.base_url(instance),
            ratelimit_method="throw",
            request_timeout=self._timeout,
            version_check_mode="none",
            session=self._requests,
        )

    def _outcome(self, exc: BaseException, api: Mastodon | None) -> PostOutcome:
        """Map a Mastodon.py error to the blast's vocabulary."""
        if isinstance(exc, MastodonRatelimitError):
            return PostOutcome(
                OutcomeKind.RATE_LIMITED, retry_at=self._retry_at(api), reason="rate limited"
            )
        if isinstance(exc, MastodonUnauthorizedError):
            return PostOutcome(OutcomeKind.REVOKED, reason="unauthorized")
        if isinstance(exc, MastodonServerError | MastodonNetworkError):
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        if isinstance(exc, MastodonAPIError):
            status = exc.args[1] if len(exc.args) > 1 else None
            detail = str(exc.args[3] if len(exc.args) > 3 else "")[:200]
            if status == 403:
                return PostOutcome(OutcomeKind.REVOKED, reason=detail or "forbidden")
            if status == 422:
                return PostOutcome(OutcomeKind.REJECTED, reason=detail or "unprocessable")
            if isinstance(status, int) and status >= 500:
                return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"server error {status}")
            return PostOutcome(OutcomeKind.REJECTED, reason=detail or f"status {status}")
        if isinstance(exc, requests.RequestException | OSError):
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        log.exception("unexpected error talking to Mastodon", exc_info=exc)
        return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)

    def _retry_at(self, api: Mastodon | None) -> datetime:
        """The reset moment the server gave, moved onto our clock."""
        reset = getattr(api, "ratelimit_reset", None) if api is not None else None
        if reset is None:
            return self._clock.now() + DEFAULT_RETRY
        return self._clock.now() + timedelta(seconds=max(0.0, float(reset) - time.time()))

    async def _form_post(self, instance: str, path: str, form: dict[str, str]) -> tuple[int, Any]:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                self.base_url(instance) + path, data=form, allow_redirects=False
            ) as response,
        ):
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            return response.status, body


def _no_redirects(connections: int) -> requests.Session:
    """A keep-alive session that never follows a redirect (one could point inwards)."""
    session = requests.Session()
    session.max_redirects = 0
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # shared by accounts
    pool = HTTPAdapter(pool_maxsize=max(1, connections))
    session.mount("http://", pool)
    session.mount("https://", pool)
    return session


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not ip.is_global


def _aware(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment).replace("Z", "+00:00"))


def plain_text(content: str) -> str:
    """A status's HTML content as the plain text the supporter typed."""
    return html.unescape(_TAG_RE.sub("", _BREAK_RE.sub("\n", content))).strip()
