"""Bluesky: posting a supporter's message on their PDS, and reading back who posted.

The OAuth side (handle -> DID -> PDS -> authorization server, PAR, PKCE, DPoP) is another
module's; it hands this adapter two things: a ``PdsClient`` that writes one record with
the account's grant, and a ``BlueskyGrants`` that refreshes and revokes that grant. What
is Bluesky's own lives here:

- the post record: ``app.bsky.feed.post`` with its text, ``createdAt``, ``langs`` and the
  rich-text facets for links and hashtags at UTF-8 BYTE offsets, detected with the
  ``atproto`` SDK's port of the official detection (so Chorus links what the Bluesky app
  would link);
- the record key: a TID derived from the pledge's idempotency key (``record_key``), so a
  retry after a crash writes to the same key and the PDS answers "already there" instead
  of posting twice (``Recovery.RESEND``);
- the read-back (tap mode, crash recovery) and the follower count, from the public
  AppView, with no token at all, through ``GuardedHttp`` (deadline, size cap, no
  redirect): ``getAuthorFeed`` paged back to the launch (bounded), ``getProfile``.

Bluesky counts 300 graphemes, links as written (``Weighting.GRAPHEMES``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from atproto_client.models.utils import get_model_as_dict
from atproto_client.utils import detect_facets
from yarl import URL

from bot.clock import SystemClock
from bot.domain.account import SocialAccount, TokenSet, follower_count
from bot.domain.message_rules import grapheme_count
from bot.domain.networks import DeliveryMode, LengthRule, Network, NetworkSpec, Recovery, Weighting
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.ports import Clock, NetworkFailure
from bot.settings import Settings

from .atproto_pds import PdsAuthRevoked, PdsClient, PdsFailure, PdsRateLimited, PdsRecordExists
from .guarded_http import MAX_JSON, AddressRule, Answer, GuardedHttp, Lookup, system_lookup
from .instances import is_public
from .mastodon_post import DEFAULT_RETRY, failure_outcome

log = logging.getLogger(__name__)

BLUESKY = Network("bluesky")
POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300  # app.bsky.feed.post#text maxGraphemes
MAX_TEXT_BYTES = 3000  # app.bsky.feed.post#text maxLength (UTF-8 bytes)
# auto: creating posts and nothing else (a granular permission: no deleting, no other
# record type, no blobs, no account settings); tap: identity only, no write permission.
AUTO_SCOPES = ("atproto", f"repo:{POST_COLLECTION}?action=create")
TAP_SCOPES = ("atproto",)
BLUESKY_SPEC = NetworkSpec(
    id=BLUESKY,
    order=3,
    length=LengthRule(limit=MAX_GRAPHEMES, url_weight=None, weighting=Weighting.GRAPHEMES),
    default_mode=DeliveryMode.AUTO,
    modes=frozenset(DeliveryMode),
    scopes={DeliveryMode.AUTO: AUTO_SCOPES, DeliveryMode.TAP: TAP_SCOPES},
    recovery=Recovery.RESEND,  # the record key is derived from the pledge: no double post
    account_format="@{handle}",
    # The authorization server's account page lists connected apps ("Connected apps" on
    # bsky.social/account); ``instance`` is the host that granted the account's tokens.
    revoke_page="https://{instance}/account",
    share_intent="https://bsky.app/intent/compose?text={text}%20{url}",
)
APP_NAME = "Chorus"
COMPOSE_URL = "https://bsky.app/intent/compose"
FEED_PAGE = 100  # getAuthorFeed's largest page
FEED_PAGES = 5  # at most this many pages back to the launch moment
READ_DEADLINE = 20.0
_DID_RE = re.compile(r"did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.%:-]{1,253})")
_LANG_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)

# ---- record keys ---------------------------------------------------------------------

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
# The timestamp part of a derived key lies in this past window (2020-01-01 + 2^47 µs, until
# mid-2024): never in the future, and apart from keys a client makes for a new post today.
_TID_EPOCH_US = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
_TID_WINDOW_BITS = 47


def record_key(idempotency_key: str, namespace: str) -> str:
    """The TID under which the post for ``idempotency_key`` is created; the same key (and
    namespace) always gives the same TID.

    Bluesky posts live under TID record keys, and a PDS refuses a second record under a
    key that exists. Deriving the key from the pledge (HMAC-SHA-256 of the idempotency key,
    keyed with ``namespace``, this deployment's public URL, so two deployments' "pledge 1"
    differ) makes a retry after a crash or timeout land on the same key: the PDS says
    "already there" and Chorus reads that as posted. A TID is 64 bits: top bit 0, 53 bits
    of microseconds, 10 bits of clock id. The spec warns that a record key's time is
    chosen by its writer and is not to be trusted; here it is kept in a fixed past window
    (never in the future, where indexers may be wary) and carries 57 bits of the hash.
    """
    digest = hmac.new(namespace.encode(), idempotency_key.encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:8], "big")
    micros = _TID_EPOCH_US + (bits >> 17) % (1 << _TID_WINDOW_BITS)
    clock_id = bits & 0x3FF
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * (12 - i))) & 0x1F] for i in range(13))


def post_url(did: str, rkey: str) -> str:
    """The post's page on bsky.app."""
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _rkey_of(uri: str) -> str:
    """The record key at the end of an ``at://did/collection/rkey`` URI ('' if none)."""
    parts = uri.removeprefix("at://").split("/")
    return parts[2] if len(parts) == 3 else ""


# ---- the record ------------------------------------------------------------------------


def language_tag(language: str) -> str | None:
    """The supporter's language as a BCP 47 tag for ``langs`` (what the Bluesky app sets:
    the writer's posting language), or None when it is not one."""
    tag = language.strip().replace("_", "-")
    return tag if 2 <= len(tag) <= 35 and _LANG_RE.fullmatch(tag) else None


def build_post(text: str, *, created_at: datetime, language: str | None) -> dict[str, Any]:
    """The ``app.bsky.feed.post`` record for ``text``, with its link and hashtag facets.

    Facet offsets are UTF-8 byte offsets into ``text`` (what the lexicon specifies), so an
    accent or an emoji before a link moves it by its bytes, not its characters. The blast
    posts the same few texts thousands of times: the facets are detected once per text,
    and each record gets its own copy.
    """
    stamp = created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {"$type": POST_COLLECTION, "text": text, "createdAt": stamp}
    facets = json.loads(_facets_of(text))
    if facets:
        record["facets"] = facets
    if language:
        record["langs"] = [language]
    return record


@lru_cache(maxsize=256)
def _facets_of(text: str) -> str:
    """The text's facets as the atproto models give them (validated), as JSON."""
    return json.dumps([get_model_as_dict(facet) for facet in detect_facets(text)])


@lru_cache(maxsize=256)
def fits(text: str) -> bool:
    """Whether Bluesky takes ``text`` as a post's text (300 graphemes, 3000 bytes); the
    blast asks for the same few texts thousands of times."""
    return grapheme_count(text) <= MAX_GRAPHEMES and len(text.encode()) <= MAX_TEXT_BYTES


# ---- what the OAuth side hands in ------------------------------------------------------


class BlueskyGrants(Protocol):
    """The OAuth side's part of ``SocialNetwork``: the account's grant, refreshed or revoked."""

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """As ``SocialNetwork.refresh``: new tokens, stored when ``account.id`` is set."""
        ...

    async def revoke(self, account: SocialAccount) -> None:
        """As ``SocialNetwork.revoke``: ``NetworkFailure`` unless the server confirmed."""
        ...


# ---- the adapter -----------------------------------------------------------------------


class BlueskyNetwork:
    """``SocialNetwork`` for Bluesky: posts through a ``PdsClient``, reads the AppView."""

    network = BLUESKY

    def __init__(
        self,
        settings: Settings,
        *,
        pds: PdsClient,
        grants: BlueskyGrants,
        clock: Clock | None = None,
        deadline: float = READ_DEADLINE,
        max_body: int = MAX_JSON,
        lookup: Lookup = system_lookup,
        address_rule: AddressRule | None = None,
    ) -> None:
        """``lookup`` and ``address_rule`` are for tests; the AppView address comes from
        BLUESKY_APPVIEW_URL (public addresses only, unless it names a local one itself,
        as a test's fake does)."""
        self._settings = settings
        self._pds = pds
        self._grants = grants
        self._clock: Clock = clock or SystemClock()
        self._namespace = settings.public_url
        self._appview = settings.bluesky_appview_url.rstrip("/")
        host = urlsplit(self._appview).hostname or ""
        rule = address_rule or (_allow_any if _is_local(host) else is_public)
        self._http = GuardedHttp(
            deadline=deadline,
            connections=settings.blast_concurrency,
            user_agent=f"{APP_NAME} (+{settings.public_url})",
            allowed=rule,
            lookup=lookup,
            max_body=max_body,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def close(self) -> None:
        self._http.close_soon()

    @property
    def scopes(self) -> str:
        """The least the delivery mode needs: a write scope only when Chorus posts."""
        return " ".join(BLUESKY_SPEC.scopes[self._settings.bluesky_delivery])

    # ---- SocialNetwork: posting ----------------------------------------------------------

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        """Create the post under the key derived from ``idempotency_key``: a retry of the
        same pledge finds its earlier post instead of making a second one."""
        if not fits(text):
            return PostOutcome(OutcomeKind.REJECTED, reason="longer than Bluesky takes")
        did = account.remote_id
        if not _DID_RE.fullmatch(did):  # it goes into the post's address
            return PostOutcome(OutcomeKind.REJECTED, reason="the account id is not a DID")
        rkey = record_key(idempotency_key, self._namespace)
        record = build_post(
            text, created_at=self._clock.now(), language=language_tag(account.owner.language)
        )
        try:
            created = await self._pds.create_record(
                account, collection=POST_COLLECTION, rkey=rkey, record=record
            )
        except PdsRecordExists as exists:
            log.info("Bluesky post %s already existed: an earlier attempt went through", rkey)
            return self._posted(did, exists.uri, rkey)
        except PdsRateLimited as limited:
            return PostOutcome(
                OutcomeKind.RATE_LIMITED, retry_at=limited.retry_at, reason="rate limited"
            )
        except PdsAuthRevoked:
            return PostOutcome(OutcomeKind.REVOKED, reason="grant revoked")
        except PdsFailure as failure:  # the record may exist: retrying with the key is safe
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=str(failure)[:200] or "PDS")
        return self._posted(did, created.uri, rkey)

    @staticmethod
    def _posted(did: str, uri: str, rkey: str) -> PostOutcome:
        expected = f"at://{did}/{POST_COLLECTION}/{rkey}"
        if uri != expected:  # the PDS named another record: trust our own key, not its word
            log.warning("the PDS answered record %r for key %s", uri[:200], rkey)
        return PostOutcome(OutcomeKind.POSTED, remote_id=expected, url=post_url(did, rkey))

    def compose_url(self, account: SocialAccount, text: str) -> str:
        """Bluesky's compose screen with ``text`` filled in (the app or the web)."""
        return f"{COMPOSE_URL}?text={quote(text, safe='')}"

    # ---- SocialNetwork: the grant (the OAuth side's) ---------------------------------------

    async def refresh(self, account: SocialAccount) -> TokenSet:
        return await self._grants.refresh(account)

    async def revoke(self, account: SocialAccount) -> None:
        await self._grants.revoke(account)

    # ---- reading the public AppView ----------------------------------------------------

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        """The account's own posts since ``since``, newest first, from its author feed
        (reposts of others left out), paged back at most ``FEED_PAGES`` pages."""
        did = _did(account.remote_id)
        posts: list[RemotePost] = []
        cursor: str | None = None
        for _ in range(FEED_PAGES):
            params = {"actor": did, "limit": str(FEED_PAGE), "filter": "posts_and_author_threads"}
            if cursor:
                params["cursor"] = cursor
            body = await self._read("app.bsky.feed.getAuthorFeed", params)
            feed = body.get("feed")
            if not isinstance(feed, list):
                raise NetworkFailure(
                    PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable author feed")
                )
            older = False
            for item in feed:
                post = _feed_post(item, did)
                if post is None:
                    continue
                if post.created_at >= since:
                    posts.append(post)
                else:
                    older = True
            next_cursor = body.get("cursor")
            if older or not feed or not isinstance(next_cursor, str) or next_cursor == cursor:
                break
            cursor = next_cursor[:512]
        return posts

    async def followers(self, did: str) -> int:
        """The account's follower count from its public profile (bounded, never negative)."""
        body = await self._read("app.bsky.actor.getProfile", {"actor": _did(did)})
        return follower_count(body.get("followersCount"))

    async def _read(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        """One XRPC query to the AppView; ``NetworkFailure`` with the outcome on failure."""
        url = URL(f"{self._appview}/xrpc/{method}")
        try:
            answer = await self._http.request("GET", url, params=params)
        except _ERRORS as exc:
            raise NetworkFailure(failure_outcome(exc)) from exc
        if answer.status != 200:
            raise NetworkFailure(self._failed(answer))
        body = answer.json()
        if not isinstance(body, dict):
            raise NetworkFailure(PostOutcome(OutcomeKind.NETWORK_DOWN, reason="unreadable"))
        return body

    def _failed(self, answer: Answer) -> PostOutcome:
        """A refused XRPC query in the blast's vocabulary."""
        if answer.status == 429:
            return PostOutcome(
                OutcomeKind.RATE_LIMITED, retry_at=self._retry_at(answer), reason="rate limited"
            )
        if answer.status >= 500 or answer.status < 400:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=f"AppView {answer.status}")
        body = answer.json()
        error = body.get("error") if isinstance(body, dict) else None
        reason = str(error)[:100] if isinstance(error, str) else f"AppView {answer.status}"
        if error in {"AccountTakedown", "AccountDeactivated"}:
            return PostOutcome(OutcomeKind.REVOKED, reason=reason)
        return PostOutcome(OutcomeKind.REJECTED, reason=reason)

    def _retry_at(self, answer: Answer) -> datetime:
        """``ratelimit-reset`` (epoch seconds) measured against the server's clock."""
        now = self._clock.now()
        reset = answer.headers.get("ratelimit-reset", "").strip()
        if not reset.isdigit():
            return now + DEFAULT_RETRY
        server = answer.headers.get("Date")
        try:
            server_now = parsedate_to_datetime(server).timestamp() if server else None
        except (TypeError, ValueError):
            server_now = None
        base = server_now if server_now is not None else now.timestamp()
        wait = int(reset[:12]) - base
        if wait <= 0:
            return now + DEFAULT_RETRY
        return now + timedelta(seconds=min(wait, 24 * 3600))


def _did(value: str) -> str:
    """A DID we are about to put in a query, checked: nothing else goes to the AppView."""
    if not _DID_RE.fullmatch(value):
        raise NetworkFailure(PostOutcome(OutcomeKind.REJECTED, reason="not a DID"))
    return value


def _feed_post(item: Any, did: str) -> RemotePost | None:
    """One author-feed entry as our own type; None unless it is the account's own post."""
    if not isinstance(item, dict) or item.get("reason") is not None:
        return None  # a repost or a pinned post: not written for this campaign
    post = item.get("post")
    if not isinstance(post, dict):
        return None
    author = post.get("author")
    uri = post.get("uri")
    record = post.get("record")
    if (
        not isinstance(author, dict)
        or author.get("did") != did
        or not isinstance(uri, str)
        or not uri.startswith(f"at://{did}/{POST_COLLECTION}/")
        or not isinstance(record, dict)
        or not isinstance(record.get("text"), str)
    ):
        return None
    rkey = _rkey_of(uri)
    moments = [m for m in (_moment(record.get("createdAt")), _moment(post.get("indexedAt"))) if m]
    if not rkey or not moments:
        return None
    return RemotePost(
        remote_id=uri,
        text=expanded_text(record["text"], record.get("facets")),
        url=post_url(did, rkey),
        created_at=min(moments),  # the AppView sorts by the earlier of the two as well
    )


def expanded_text(text: str, facets: Any) -> str:
    """The post's text with each link facet's span replaced by its full address.

    The Bluesky app shortens a long link in the text ("example.org/campaign/lo...") and
    keeps the address in a link facet; matching a campaign by its links needs the address.
    Facets come from anyone: a span that is not within the text, not on character
    boundaries, or overlapping another is ignored.
    """
    if not isinstance(facets, list):
        return text
    raw = text.encode()
    spans: list[tuple[int, int, str]] = []
    for facet in facets[:100]:
        span = _link_span(facet, len(raw))
        if span is not None:
            spans.append(span)
    out: list[bytes] = []
    cursor = 0
    for start, end, uri in sorted(spans):
        if start < cursor:
            continue
        try:
            raw[start:end].decode()  # both ends on character boundaries
        except UnicodeDecodeError:
            continue
        out += [raw[cursor:start], uri.encode()]
        cursor = end
    out.append(raw[cursor:])
    return b"".join(out).decode("utf-8", "replace")


def _link_span(facet: Any, size: int) -> tuple[int, int, str] | None:
    if not isinstance(facet, dict):
        return None
    index = facet.get("index")
    features = facet.get("features")
    if not isinstance(index, dict) or not isinstance(features, list):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if type(start) is not int or type(end) is not int or not 0 <= start < end <= size:
        return None
    for feature in features[:10]:
        if (
            isinstance(feature, dict)
            and feature.get("$type") == "app.bsky.richtext.facet#link"
            and isinstance(feature.get("uri"), str)
            and feature["uri"].startswith(("https://", "http://"))
            and len(feature["uri"]) <= 3000
            and not any(c.isspace() for c in feature["uri"])
        ):
            return start, end, feature["uri"]
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _allow_any(address: str) -> bool:
    return True


def _is_local(host: str) -> bool:
    """A loopback or private AppView address the deployer configured on purpose (tests)."""
    if host == "localhost":
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def delivery_mode(settings: Settings) -> DeliveryMode:
    """How Bluesky delivers on this Chorus: BLUESKY_DELIVERY."""
    return settings.bluesky_delivery
