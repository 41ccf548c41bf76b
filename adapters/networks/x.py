"""X (Twitter): links accounts with OAuth 2.0 + PKCE and posts through tweepy.

The OAuth dance (authorize, token, refresh, revoke) and the profile read that ends a
pledge are a few small requests, written here with aiohttp on one keep-alive session: a
rush of pledges must not pay a new session and connection (nor a worker thread) each.
Posting and reading the timeline go through ``tweepy.Client`` on a bounded worker pool,
with its built-in host rebased onto ``X_API_URL`` so the same code talks to X or to a
loopback fake; tweepy stays there for its tested error mapping of the tweet endpoints.
Every client shares one keep-alive requests session (a pool as large as the worker pool):
a blast of thousands of tweets must not open a new connection for each.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import requests
import tweepy
from requests.adapters import HTTPAdapter
from yarl import URL

from bot.clock import SystemClock
from bot.domain.account import LinkedProfile, SocialAccount, TokenSet, follower_count
from bot.domain.errors import DomainError
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.ports import Clock, NetworkFailure, Repository
from bot.settings import Settings

from .guarded_http import GuardedHttp, allow_any
from .oauth import authorization_query, token_set_from
from .threads import BlockingCalls
from .x_spec import X_SPEC, X

log = logging.getLogger(__name__)
FORM_TYPE = "application/x-www-form-urlencoded"

TWEEPY_HOST = "https://api.twitter.com"
REFRESH_MARGIN = timedelta(minutes=2)
DEFAULT_RETRY = timedelta(minutes=15)
TIMELINE_PAGES = 5
T = TypeVar("T")


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's ``api.twitter.com`` calls to ``base``."""

    def __init__(self, base: str, timeout: float, connections: int = 10) -> None:
        super().__init__()
        self._base = base.rstrip("/")
        self._timeout = timeout
        # one keep-alive pool for every account and worker thread, so no cookie is kept
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        pool = HTTPAdapter(pool_maxsize=max(1, connections))
        self.mount("http://", pool)
        self.mount("https://", pool)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self._base + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


class XNetwork:
    """Both ports for X: ``SocialNetwork`` (post, read back) and ``AccountLinker``."""

    network = X

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        *,
        clock: Clock | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not settings.x_client_id:
            raise ValueError("XNetwork needs X_CLIENT_ID")
        self._settings = settings
        self._repo = repo
        self._clock: Clock = clock or SystemClock()
        self._timeout = timeout
        self._api = settings.x_api_url.rstrip("/")
        # parsed once: every pledge asks for a token and who the account is
        self._me_url = URL(f"{self._api}/2/users/me").with_query({"user.fields": "public_metrics"})
        self._urls: dict[str, URL] = {}
        self._client_id = settings.x_client_id
        secret = settings.x_client_secret
        self._client_secret = secret.get_secret_value() if secret else None
        self._calls = BlockingCalls(settings.blast_concurrency, "x-api")
        self._session = RebasedSession(self._api, timeout, settings.blast_concurrency)
        # X_API_URL is the operator's, not a supporter's: any address is allowed
        self._http = GuardedHttp(
            deadline=timeout,
            connections=settings.blast_concurrency,
            user_agent=f"Chorus (+{settings.public_url})",
            allowed=allow_any,
        )

    async def aclose(self) -> None:
        """Stop the worker pool and close the shared connections (off the loop)."""
        await self._http.aclose()
        await asyncio.to_thread(self._close_threads)

    def close(self) -> None:
        """The synchronous variant (the aiohttp session is closed on its loop if it runs)."""
        self._http.close_soon()
        self._close_threads()

    def _close_threads(self) -> None:
        self._calls.close()
        self._session.close()

    @property
    def scopes(self) -> str:
        return " ".join(X_SPEC.scopes[self._settings.x_delivery])

    # ---- AccountLinker -------------------------------------------------------------

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        query, verifier = authorization_query(
            client_id=self._client_id, redirect_uri=redirect_uri, scope=self.scopes, state=state
        )
        return f"{self._settings.x_authorize_url}?{query}", {"verifier": verifier}

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfile:
        body = await self._token_call(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": str(data.get("verifier", "")),
            },
            refused=DomainError("web.error.authorisation_failed", network="X"),
        )
        tokens = token_set_from(body, self._clock.now())
        try:
            return await self._profile(tokens)
        except Exception:  # the tokens would be lost with the profile: revoke them first
            with suppress(Exception):  # best effort: the failure is what counts here
                await self._revoke_tokens(tokens)
            raise

    async def _profile(self, tokens: TokenSet) -> LinkedProfile:
        """Who the tokens belong to; ``NetworkFailure`` if X cannot say."""
        try:
            answer = await self._http.request(
                "GET", self._me_url, headers={"Authorization": f"Bearer {tokens.access_token}"}
            )
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
            ) from exc
        if answer.status != 200:
            raise NetworkFailure(self._refusal(answer.status, answer.headers, answer.json()))
        body = answer.json()
        user = body.get("data") if isinstance(body, dict) else None
        if not isinstance(user, dict) or "id" not in user or "username" not in user:
            raise NetworkFailure(PostOutcome(OutcomeKind.NETWORK_DOWN, reason="no profile"))
        metrics = user.get("public_metrics")
        if not isinstance(metrics, dict):
            metrics = {}
        return LinkedProfile(
            network=X,
            instance="x.com",
            remote_id=str(user["id"]),
            handle=str(user["username"]),
            followers=follower_count(metrics.get("followers_count")),
            tokens=tokens,
        )

    # ---- SocialNetwork -------------------------------------------------------------

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        """Post a tweet. X has no idempotency key: the blast reconciles via ``recent_posts``."""
        try:
            body = await self._as(account, lambda token: self._create_tweet(token, text))
        except NetworkFailure as failure:
            return failure.outcome
        tweet_id = str(body["data"]["id"])
        return PostOutcome(
            OutcomeKind.POSTED,
            remote_id=tweet_id,
            url=f"https://x.com/{account.handle}/status/{tweet_id}",
        )

    def compose_url(self, account: SocialAccount, text: str) -> str:
        parts = urlsplit(self._settings.x_authorize_url)
        return f"{parts.scheme}://{parts.netloc}/intent/post?text={quote(text, safe='')}"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        pages = await self._as(
            account, lambda token: self._timeline(token, account.remote_id, since)
        )
        posts = []
        for item in pages:
            created = datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))
            posts.append(
                RemotePost(
                    remote_id=str(item["id"]),
                    text=str(item.get("text", "")),
                    url=f"https://x.com/{account.handle}/status/{item['id']}",
                    created_at=created.astimezone(UTC),
                )
            )
        return posts

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """Trade the refresh token for new tokens and store them (the port: the adapter owns
        refreshed tokens; X rotates refresh tokens, so they are written at once)."""
        if not account.tokens.refresh_token:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="no refresh token"))
        body = await self._token_call(
            {"grant_type": "refresh_token", "refresh_token": account.tokens.refresh_token},
            refused=NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="refresh refused")),
        )
        tokens = token_set_from(body, self._clock.now(), previous=account.tokens)
        if account.id is not None:
            await self._repo.update_tokens(account.id, tokens)
        return tokens

    async def revoke(self, account: SocialAccount) -> None:
        """Revoke both tokens; ``NetworkFailure`` unless X answered 200 for each."""
        await self._revoke_tokens(account.tokens)

    async def _revoke_tokens(self, tokens: TokenSet) -> None:
        """Revoke both tokens at X; ``NetworkFailure`` unless X confirmed each."""
        for token, hint in (
            (tokens.access_token, "access_token"),
            (tokens.refresh_token, "refresh_token"),
        ):
            if not token:
                continue
            try:
                status, _ = await self._form_post(
                    "/2/oauth2/revoke", {"token": token, "token_type_hint": hint}
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise NetworkFailure(
                    PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
                ) from exc
            if status != 200:
                kind = OutcomeKind.NETWORK_DOWN if status >= 500 else OutcomeKind.REJECTED
                raise NetworkFailure(PostOutcome(kind, reason=f"revoke answered {status}"))

    # ---- internals -----------------------------------------------------------------

    async def _as(self, account: SocialAccount, call: Callable[[str], T]) -> T:
        """Run ``call(access_token)`` on a worker; refresh once on expiry or a 401."""
        tokens = account.tokens
        refreshed = False
        if tokens.refresh_token and tokens.expires_before(self._clock.now() + REFRESH_MARGIN):
            tokens = await self.refresh(account)
            refreshed = True
        while True:
            try:
                return await self._calls.run(call, tokens.access_token)
            except tweepy.Unauthorized as exc:
                if refreshed or not tokens.refresh_token:
                    raise NetworkFailure(self._outcome(exc)) from exc
                log.info("X answered 401 for account %s; refreshing once", account.id)
                tokens = await self.refresh(replace(account, tokens=tokens))
                refreshed = True
            except Exception as exc:
                raise NetworkFailure(self._outcome(exc)) from exc

    def _client(self, access_token: str) -> tweepy.Client:
        """A client for one token on the shared session (cheap: no connection of its own)."""
        client = tweepy.Client(bearer_token=access_token, return_type=dict)
        client.session = self._session
        return client

    def _create_tweet(self, access_token: str, text: str) -> dict[str, Any]:
        client = self._client(access_token)
        return client.create_tweet(text=text, user_auth=False)  # type: ignore[no-any-return]

    def _timeline(self, access_token: str, user_id: str, since: datetime) -> list[dict[str, Any]]:
        client = self._client(access_token)
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "start_time": since,
            "max_results": 100,
            "tweet_fields": ["created_at"],
        }
        for _ in range(TIMELINE_PAGES):
            page = client.get_users_tweets(user_id, user_auth=False, **params)
            items.extend(page.get("data") or [])
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["pagination_token"] = next_token
        return items

    def _outcome(self, exc: BaseException) -> PostOutcome:
        """Map a tweepy or transport error to the blast's vocabulary."""
        if isinstance(exc, tweepy.Unauthorized):
            return PostOutcome(OutcomeKind.REVOKED, reason="unauthorized")
        if isinstance(exc, tweepy.Forbidden):
            detail = " ".join(str(m) for m in exc.api_messages).lower()
            if "suspend" in detail or "locked" in detail:
                return PostOutcome(OutcomeKind.REVOKED, reason="account suspended")
            return PostOutcome(OutcomeKind.REJECTED, reason=_short(detail) or "forbidden")
        if isinstance(exc, tweepy.TooManyRequests):
            retry_at = self._clock.now() + DEFAULT_RETRY
            if exc.reset_time:
                retry_at = datetime.fromtimestamp(exc.reset_time, UTC)
            return PostOutcome(OutcomeKind.RATE_LIMITED, retry_at=retry_at, reason="rate limited")
        if isinstance(exc, tweepy.TwitterServerError):
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"server error {_status(exc)}")
        if isinstance(exc, tweepy.HTTPException):
            detail = " ".join(str(m) for m in exc.api_messages)
            return PostOutcome(OutcomeKind.REJECTED, reason=_short(detail) or str(_status(exc)))
        if isinstance(exc, requests.RequestException | OSError):
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        log.exception("unexpected error talking to X", exc_info=exc)
        return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)

    def _refusal(self, status: int, headers: Any, body: Any) -> PostOutcome:
        """What an answer other than 200 from the API means, as ``_outcome`` maps tweepy's."""
        if status == 401:
            return PostOutcome(OutcomeKind.REVOKED, reason="unauthorized")
        if status == 429:
            retry_at = self._clock.now() + DEFAULT_RETRY
            with suppress(KeyError, TypeError, ValueError, OverflowError, OSError):
                retry_at = datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC)
            return PostOutcome(OutcomeKind.RATE_LIMITED, retry_at=retry_at, reason="rate limited")
        if status >= 500:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"server error {status}")
        detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
        if status == 403 and ("suspend" in detail.lower() or "locked" in detail.lower()):
            return PostOutcome(OutcomeKind.REVOKED, reason="account suspended")
        return PostOutcome(OutcomeKind.REJECTED, reason=_short(detail) or str(status))

    async def _token_call(self, form: dict[str, str], *, refused: Exception) -> dict[str, Any]:
        """POST to the token endpoint: ``refused`` on a 4xx, NETWORK_DOWN otherwise."""
        try:
            status, body = await self._form_post("/2/oauth2/token", form)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
            ) from exc
        if 400 <= status < 500 and status != 429:
            log.info("X token endpoint refused a %s grant (%s)", form["grant_type"], status)
            raise refused
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"token endpoint {status}")
            )
        return body

    async def _form_post(self, path: str, form: dict[str, str]) -> tuple[int, Any]:
        data = dict(form)
        headers = {"Content-Type": FORM_TYPE}
        if self._client_secret:
            pair = f"{self._client_id}:{self._client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            data["client_id"] = self._client_id
        # encoded here as aiohttp would encode the dict, without its FormData machinery
        answer = await self._http.request(
            "POST", self._url(path), data=urlencode(data).encode(), headers=headers
        )
        return answer.status, answer.json()

    def _url(self, path: str) -> URL:
        """The API's address for ``path``, parsed once."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(f"{self._api}{path}")
        return url


def _status(exc: tweepy.HTTPException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _short(text: str) -> str:
    return text.strip()[:200]
