"""Mastodon: any instance a supporter names, linked with OAuth + PKCE.

The supporter types an instance; it is normalised, confirmed to be Mastodon, and Chorus
registers an app there (once per instance, kept in the repository; at most
MASTODON_REGISTRATIONS_PER_HOUR new ones per hour across the deployment). Whoever runs the
instance may be hostile, so every request to it (the instance check, the app registration,
the token exchange, the profile, the read-back, the revocation and the blast's posts) goes
through ``GuardedHttp``: one total deadline, a cap on the answer's size, no redirects, and
only the addresses that passed the private-address check. The REST calls are small, so
their JSON is read here into our own types. Linking and posting use two separate guarded
sessions so a flood of pledge forms naming slow instances cannot starve the blast.
Scopes are the least the delivery mode needs: ``tap`` never asks for ``write:statuses``.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import re
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.clock import SystemClock
from bot.domain.account import LinkedProfile, SocialAccount, TokenSet, follower_count
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.networks import DeliveryMode, LengthRule, Network, NetworkSpec, Recovery
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.domain.trend import TagSample
from bot.ports import Clock, NetworkFailure, Repository
from bot.settings import Settings

from .guarded_http import (
    MAX_JSON,
    AddressRule,
    Answer,
    BodyTooLarge,
    GuardedHttp,
    Lookup,
    PrivateAddress,
    allow_any,
    system_lookup,
)
from .instances import is_public, normalise_instance, split_host
from .mastodon_post import StatusPoster, failure_outcome
from .oauth import authorization_query, token_set_from

log = logging.getLogger(__name__)

READ_SCOPES = ("read:accounts", "read:statuses")
WRITE_SCOPES = ("write:statuses",)
# An app is registered once per instance with every scope either mode may ask, so switching
# a deployment from tap to auto needs no new registration; each authorisation asks only
# what its mode needs, and the token gets only that.
APP_SCOPES = READ_SCOPES + WRITE_SCOPES
APP_NAME = "Chorus"
MASTODON = Network("mastodon")
MASTODON_SPEC = NetworkSpec(
    id=MASTODON,
    order=2,
    length=LengthRule(limit=500, url_weight=23),
    default_mode=DeliveryMode.AUTO,
    modes=frozenset(DeliveryMode),
    scopes={DeliveryMode.TAP: READ_SCOPES, DeliveryMode.AUTO: READ_SCOPES + WRITE_SCOPES},
    recovery=Recovery.RESEND,  # Mastodon dedupes a status on its Idempotency-Key
    typed_instance=True,
    account_format="@{handle}@{instance}",
    revoke_page="https://{instance}/oauth/authorized_applications",
    share_intent="https://{instance}/share?text={text}%20{url}",
)
STATUS_PAGE = 40
TAG_PAGE = 40  # Mastodon's largest timeline page
TAG_PAGES = 10  # at most 400 posts read per server for one count
REGISTRATION_WINDOW = timedelta(hours=1)
_TAG_RE = re.compile(r"<[^>]+>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


class MastodonNetwork:
    """The ports for Mastodon: ``SocialNetwork``, ``AccountLinker`` and ``TagCounter``."""

    network = MASTODON

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        *,
        clock: Clock | None = None,
        deadline: float | None = None,
        max_body: int = MAX_JSON,
        lookup: Lookup = system_lookup,
        address_rule: AddressRule | None = None,
    ) -> None:
        """``deadline`` (seconds, per request, answer included) defaults to the setting;
        ``lookup`` and ``address_rule`` (which resolved addresses may be connected to:
        public ones, or any with MASTODON_ALLOW_PRIVATE_HOSTS) are there for tests."""
        self._settings = settings
        self._repo = repo
        self._clock: Clock = clock or SystemClock()
        self._allow_private = settings.mastodon_allow_private_hosts
        self._registering = 0
        self._cap_lock = asyncio.Lock()
        rule = address_rule or (allow_any if self._allow_private else is_public)

        def guarded() -> GuardedHttp:
            return GuardedHttp(
                deadline=settings.mastodon_deadline_seconds if deadline is None else deadline,
                connections=settings.blast_concurrency,
                user_agent=f"{APP_NAME} (+{settings.public_url})",
                allowed=rule,
                lookup=lookup,
                max_body=max_body,
            )

        self._link_http = guarded()
        self._post_http = guarded()
        self._poster = StatusPoster(clock=self._clock, http=self._post_http)

    async def aclose(self) -> None:
        """Close both HTTP sessions."""
        await self._post_http.aclose()
        await self._link_http.aclose()

    def close(self) -> None:
        """The synchronous variant (the sessions are closed on their loop if it runs)."""
        self._post_http.close_soon()
        self._link_http.close_soon()

    # ---- addresses and scopes ------------------------------------------------------

    def base_url(self, instance: str) -> str:
        """``https://instance``; plain http only for private hosts in private-host mode."""
        host, port = split_host(instance)
        if self._allow_private and (port is not None or _is_local(host)):
            return f"http://{instance}"
        return f"https://{instance}"

    @property
    def scopes(self) -> str:
        """The least the delivery mode needs: posting rights only when Chorus posts."""
        return " ".join(MASTODON_SPEC.scopes[self._settings.mastodon_delivery])

    async def check_instance(self, typed: str) -> str:
        """Normalise what the supporter typed and make sure it is a reachable Mastodon."""
        instance = normalise_instance(typed, allow_port=self._allow_private)
        await self._probe(instance)
        return instance

    async def _probe(self, instance: str) -> None:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            answer = await self._ask(instance, "GET", path)
            body = answer.json() if answer.status == 200 else None
            if isinstance(body, dict) and isinstance(body.get("version"), str):
                return
        raise InvalidInput("web.mastodon.not_mastodon", instance=instance)

    # ---- AccountLinker -------------------------------------------------------------

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        instance = normalise_instance(instance or "", allow_port=self._allow_private)
        known = await self._repo.get_mastodon_app(instance)
        if known is None:
            client_id, _ = await self._register(instance, redirect_uri)
        else:
            await self._probe(instance)
            client_id = known[0]
        query, verifier = authorization_query(
            client_id=client_id, redirect_uri=redirect_uri, scope=self.scopes, state=state
        )
        url = f"{self.base_url(instance)}/oauth/authorize?{query}"
        return url, {"instance": instance, "verifier": verifier}

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfile:
        instance = str(data["instance"])
        app = await self._repo.get_mastodon_app(instance)
        if app is None:
            raise DomainError("web.error.authorisation_failed", network="Mastodon")
        client_id, client_secret = app
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": str(data.get("verifier", "")),
            "scope": self.scopes,
        }
        answer = await self._fetch(instance, "POST", "/oauth/token", data=form)
        body = answer.json()
        if 400 <= answer.status < 500:
            log.info("Mastodon %s refused the authorization code (%s)", instance, answer.status)
            raise DomainError("web.error.authorisation_failed", network="Mastodon")
        if answer.status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"token endpoint {answer.status}")
            )
        try:
            tokens = token_set_from(body, self._clock.now())
        except ValueError as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable token response")
            ) from exc
        try:
            me = await self._fetch(
                instance, "GET", "/api/v1/accounts/verify_credentials", tokens.access_token
            )
            return self._profile(instance, me, tokens)
        except Exception:  # the token would be lost with the profile: revoke it first
            with suppress(Exception):  # best effort: the failure is what counts here
                await self._revoke_token(instance, tokens.access_token)
            raise

    def _profile(self, instance: str, me: Answer, tokens: TokenSet) -> LinkedProfile:
        if me.status != 200:
            raise NetworkFailure(self._poster.outcome(me.status, me.headers, me.body))
        body = me.json()
        if (
            not isinstance(body, dict)
            or body.get("id") is None
            or not isinstance(body.get("username"), str)
        ):
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable profile")
            )
        return LinkedProfile(
            network=MASTODON,
            instance=instance,
            remote_id=str(body["id"]),
            handle=body["username"][:100],
            followers=follower_count(body.get("followers_count")),
            tokens=tokens,
        )

    # ---- SocialNetwork -------------------------------------------------------------

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        """Post a status; the same ``idempotency_key`` never makes a second status."""
        return await self._poster.post(
            self.base_url(account.instance), account.tokens.access_token, text, idempotency_key
        )

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"{self.base_url(account.instance)}/share?text={quote(text, safe='')}"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        path = f"/api/v1/accounts/{quote(account.remote_id, safe='')}/statuses"
        answer = await self._fetch(
            account.instance,
            "GET",
            path,
            account.tokens.access_token,
            params={"exclude_reblogs": "true", "limit": str(STATUS_PAGE)},
        )
        if answer.status != 200:
            raise NetworkFailure(self._poster.outcome(answer.status, answer.headers, answer.body))
        statuses = answer.json()
        if not isinstance(statuses, list):
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable response")
            )
        posts = []
        for status in statuses:
            post = _remote_post(status)
            if post is not None and post.created_at >= since:
                posts.append(post)
        return posts

    async def tagged_posts(
        self, instance: str, hashtag: str, since: datetime, until: datetime
    ) -> TagSample | None:
        """``TagCounter``: the public tag timeline of ``instance``, anonymously, newest
        first, a page of TAG_PAGE at a time (``max_id``) until a post older than ``since``
        or TAG_PAGES pages; the addresses of the posts created in ``[since, until)``.
        None when the instance does not answer (down, private, public timelines closed)."""
        path = f"/api/v1/timelines/tag/{quote(hashtag, safe='')}"
        urls: set[str] = set()
        max_id: str | None = None
        for _ in range(TAG_PAGES):
            params = {"limit": str(TAG_PAGE)}
            if max_id is not None:
                params["max_id"] = max_id
            try:
                answer = await self._call(instance, "GET", path, params=params)
            except _ERRORS as exc:
                log.info("tag timeline of %s unread: %s", instance, type(exc).__name__)
                return None
            statuses = answer.json() if answer.status == 200 else None
            if not isinstance(statuses, list):
                log.info("tag timeline of %s unread: HTTP %s", instance, answer.status)
                return None
            posts = [post for post in map(_remote_post, statuses) if post is not None]
            for post in posts:
                if since <= post.created_at < until and post.url:
                    urls.add(post.url)
            if len(posts) < len(statuses) or not posts:
                return TagSample(frozenset(urls), complete=True)  # the end, or junk: stop
            if min(post.created_at for post in posts) < since:
                return TagSample(frozenset(urls), complete=True)
            max_id = posts[-1].remote_id
        return TagSample(frozenset(urls), complete=False)

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """Mastodon tokens usually never expire; refresh only when a refresh token exists."""
        if not account.tokens.refresh_token:
            return account.tokens
        app = await self._repo.get_mastodon_app(account.instance)
        if app is None:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="app unknown"))
        form = {
            "grant_type": "refresh_token",
            "refresh_token": account.tokens.refresh_token,
            "client_id": app[0],
            "client_secret": app[1],
        }
        answer = await self._fetch(account.instance, "POST", "/oauth/token", data=form)
        body = answer.json()
        if 400 <= answer.status < 500:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="refresh refused"))
        if answer.status != 200 or not isinstance(body, dict):
            raise NetworkFailure(PostOutcome(OutcomeKind.NETWORK_DOWN, reason=str(answer.status)))
        try:
            tokens = token_set_from(body, self._clock.now(), previous=account.tokens)
        except ValueError as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable token response")
            ) from exc
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
        form = {"client_id": app[0], "client_secret": app[1], "token": access_token}
        try:
            answer = await self._call(instance, "POST", "/oauth/revoke", data=form)
        except _ERRORS as exc:
            raise NetworkFailure(
                PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
            ) from exc
        if answer.status != 200:
            kind = OutcomeKind.NETWORK_DOWN if answer.status >= 500 else OutcomeKind.REJECTED
            raise NetworkFailure(PostOutcome(kind, reason=f"revoke answered {answer.status}"))

    # ---- internals -----------------------------------------------------------------

    async def _register(self, instance: str, redirect_uri: str) -> tuple[str, str]:
        """Register Chorus on a new instance, within the deployment's hourly cap."""
        await self._reserve_registration()
        try:
            await self._probe(instance)
            answer = await self._ask(
                instance,
                "POST",
                "/api/v1/apps",
                data={
                    "client_name": APP_NAME,
                    "redirect_uris": redirect_uri,
                    "scopes": " ".join(APP_SCOPES),
                    "website": self._settings.public_url,
                },
            )
            body = answer.json()
            if answer.status != 200:
                raise DomainError("web.mastodon.unreachable", instance=instance)
            client_id = body.get("client_id") if isinstance(body, dict) else None
            secret = body.get("client_secret") if isinstance(body, dict) else None
            if not isinstance(client_id, str) or not isinstance(secret, str):
                raise InvalidInput("web.mastodon.not_mastodon", instance=instance)
            await self._repo.save_mastodon_app(
                instance, client_id, secret, registered_at=self._clock.now()
            )
        finally:
            self._registering -= 1
        log.info("registered Chorus on Mastodon instance %s", instance)
        return client_id, secret

    async def _reserve_registration(self) -> None:
        """Take one of this hour's registrations, or refuse; the caller gives it back.

        Counted from stored rows plus registrations in flight (snapshotted before the
        count, so one that lands meanwhile is counted at least once): forms sent at the same
        moment cannot pass the cap together. The lock covers the count, not the remote call.
        """
        async with self._cap_lock:
            in_flight = self._registering
            since = self._clock.now() - REGISTRATION_WINDOW
            recent = await self._repo.count_mastodon_registrations(since)
            if recent + in_flight >= self._settings.mastodon_registrations_per_hour:
                log.warning("new Mastodon instance refused: %s registered this hour", recent)
                raise DomainError("web.mastodon.registrations_full")
            self._registering += 1

    async def _call(
        self,
        instance: str,
        method: str,
        path: str,
        token: str | None = None,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        """One request on the guarded linking session (raises what ``GuardedHttp`` raises)."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        url = URL(self.base_url(instance) + path)
        return await self._link_http.request(
            method, url, headers=headers, data=data, params=params
        )

    async def _ask(self, instance: str, method: str, path: str, **kwargs: Any) -> Answer:
        """For the pledge form: a failure becomes a message about the instance typed."""
        try:
            return await self._call(instance, method, path, **kwargs)
        except PrivateAddress as exc:
            raise InvalidInput("web.mastodon.instance_private", instance=instance) from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise InvalidInput("web.mastodon.instance_unknown", instance=instance) from exc
        except (TimeoutError, BodyTooLarge) as exc:
            log.info("Mastodon %s misbehaved on %s: %s", instance, path, type(exc).__name__)
            raise DomainError("web.mastodon.misbehaved", instance=instance) from exc
        except _ERRORS as exc:
            raise DomainError("web.mastodon.unreachable", instance=instance) from exc

    async def _fetch(
        self, instance: str, method: str, path: str, *args: Any, **kwargs: Any
    ) -> Answer:
        """For a linked account: a failure becomes a ``NetworkFailure`` with its outcome."""
        try:
            return await self._call(instance, method, path, *args, **kwargs)
        except _ERRORS as exc:
            raise NetworkFailure(failure_outcome(exc)) from exc


def _remote_post(status: Any) -> RemotePost | None:
    """One status of a timeline in our own type; None for an entry that is not one."""
    if not isinstance(status, dict) or status.get("id") is None:
        return None
    try:
        created = datetime.fromisoformat(str(status.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    content = status.get("content")
    return RemotePost(
        remote_id=str(status["id"]),
        text=plain_text(content if isinstance(content, str) else ""),
        url=str(status.get("url") or status.get("uri") or ""),
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not ip.is_global


def plain_text(content: str) -> str:
    """A status's HTML content as the plain text the supporter typed."""
    return html.unescape(_TAG_RE.sub("", _BREAK_RE.sub("\n", content))).strip()


def delivery_mode(settings: Settings) -> DeliveryMode:
    """How Mastodon delivers on this Chorus: MASTODON_DELIVERY."""
    return settings.mastodon_delivery
