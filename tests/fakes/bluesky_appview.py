"""A loopback Bluesky AppView: ``app.bsky.actor.getProfile`` and ``app.bsky.feed.getAuthorFeed``.

It speaks XRPC as the public AppView does: GET queries under ``/xrpc/``, JSON answers,
errors as ``{"error": "...", "message": "..."}`` with their status (400 InvalidRequest for
an unknown actor or a bad parameter), ``ratelimit-*`` headers on a 429. The author feed
is newest first, paged with an opaque cursor, ``limit`` between 1 and 100; reposts carry
a ``reason`` and the reposted post's own author, as on the real feed. The ``filter``
parameter is checked against the values the lexicon allows.
Rate limits on demand: ``fail(429, headers=rate_limited(seconds))``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.loopback import Failure, LoopbackFake, reset_in

POST = "app.bsky.feed.post"
FILTERS = {
    "posts_with_replies",
    "posts_no_replies",
    "posts_with_media",
    "posts_and_author_threads",
    "posts_with_video",
}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rate_limited(seconds: int) -> dict[str, str]:
    """The headers of a 429 whose window resets ``seconds`` from now."""
    return {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": reset_in(seconds),
        "ratelimit-policy": "3000;w=300",
    }


@dataclass
class BskyActor:
    did: str
    handle: str
    followers: Any = 10  # anything a hostile AppView might answer
    # newest first: (feed item as the AppView answers it, its sort moment)
    feed: list[tuple[dict[str, Any], datetime]] = field(default_factory=list)


class FakeAppView(LoopbackFake):
    """Fake public AppView. Add actors with ``add_actor``, posts with ``add_post``."""

    name = "bluesky-appview"

    def __init__(self, *, latency_ms: float = 0, now: Any = None) -> None:
        self.actors: dict[str, BskyActor] = {}
        super().__init__(latency_ms=latency_ms, now=now)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/xrpc/app.bsky.actor.getProfile", self.get_profile)
        router.add_get("/xrpc/app.bsky.feed.getAuthorFeed", self.get_author_feed)

    def failure_body(self, failure: Failure) -> dict[str, Any]:
        if failure.body is not None:
            return failure.body
        if failure.status == 429:
            return {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        return {"error": "InternalServerError", "message": "Internal Server Error"}

    # ---- set-up --------------------------------------------------------------------

    def add_actor(self, did: str, handle: str, followers: Any = 10) -> BskyActor:
        actor = self.actors[did] = BskyActor(did, handle, followers)
        return actor

    def add_post(
        self,
        did: str,
        text: str,
        at: datetime,
        *,
        rkey: str,
        facets: list[dict[str, Any]] | None = None,
        indexed_at: datetime | None = None,
        repost_of: str | None = None,
    ) -> dict[str, Any]:
        """Put a post on ``did``'s feed (``repost_of``: a post by that other actor, reposted
        by ``did``); the feed stays newest first."""
        author = self.actors[repost_of or did]
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": stamp(at)}
        if facets:
            record["facets"] = facets
        post = {
            "uri": f"at://{author.did}/{POST}/{rkey}",
            "cid": "bafyrei" + base64.b32encode(rkey.encode()).decode().lower().rstrip("="),
            "author": {"did": author.did, "handle": author.handle},
            "record": record,
            "indexedAt": stamp(indexed_at or at),
        }
        item: dict[str, Any] = {"post": post}
        if repost_of is not None:
            reposter = self.actors[did]
            item["reason"] = {
                "$type": "app.bsky.feed.defs#reasonRepost",
                "by": {"did": reposter.did, "handle": reposter.handle},
                "indexedAt": stamp(at),
            }
        actor = self.actors[did]
        actor.feed.append((item, at))
        actor.feed.sort(key=lambda entry: entry[1], reverse=True)
        return item

    # ---- XRPC ----------------------------------------------------------------------

    @staticmethod
    def _error(status: int, error: str, message: str) -> web.Response:
        return web.json_response({"error": error, "message": message}, status=status)

    def _actor(self, request: web.Request) -> BskyActor | web.Response:
        name = request.query.get("actor", "")
        if not name:
            return self._error(
                400, "InvalidRequest", 'Error: Params must have the property "actor"'
            )
        actor = self.actors.get(name) or next(
            (a for a in self.actors.values() if a.handle == name), None
        )
        if actor is None:
            return self._error(400, "InvalidRequest", "Profile not found")
        return actor

    async def get_profile(self, request: web.Request) -> web.Response:
        actor = self._actor(request)
        if isinstance(actor, web.Response):
            return actor
        return web.json_response(
            {
                "did": actor.did,
                "handle": actor.handle,
                "followersCount": actor.followers,
                "followsCount": 3,
                "postsCount": len(actor.feed),
            }
        )

    async def get_author_feed(self, request: web.Request) -> web.Response:
        actor = self._actor(request)
        if isinstance(actor, web.Response):
            return actor
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return self._error(400, "InvalidRequest", "limit must be an integer")
        if not 1 <= limit <= 100:
            return self._error(400, "InvalidRequest", "limit can not be greater than 100")
        feed_filter = request.query.get("filter", "posts_with_replies")
        if feed_filter not in FILTERS:
            return self._error(400, "InvalidRequest", "filter must be one of the known values")
        start = 0
        cursor = request.query.get("cursor")
        if cursor is not None:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            except ValueError:
                return self._error(400, "InvalidRequest", "Malformed cursor")
        page = actor.feed[start : start + limit]
        body: dict[str, Any] = {"feed": [item for item, _ in page]}
        if start + limit < len(actor.feed):
            body["cursor"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return web.json_response(body)
