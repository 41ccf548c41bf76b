"""An in-memory social network, so Chorus can be tried end to end with no account anywhere.

``chorus console`` links every persona to a sandbox account and the blast posts here:
posts are kept per account (for ``recent_posts``) and handed to a listener the moment
they are made, which the console prints as "📢 @alice posted: …".
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from bot.domain.account import SocialAccount, TokenSet
from bot.domain.message_rules import weighted_length
from bot.domain.networks import LengthRule, Network, NetworkSpec
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.ports import Clock, NetworkFailure

log = logging.getLogger(__name__)

COMPOSE_BASE = "sandbox://compose"
INSTANCE = "sandbox"
SANDBOX_TOKEN = "sandbox-token"
SANDBOX = Network("sandbox")
SANDBOX_SPEC = NetworkSpec(id=SANDBOX, order=3, length=LengthRule(limit=500, url_weight=23))


@dataclass(frozen=True)
class SandboxPost:
    """One post the sandbox network received."""

    id: str
    account_id: str  # the account's remote id
    handle: str
    text: str
    created_at: datetime
    idempotency_key: str

    @property
    def url(self) -> str:
        return f"sandbox://{self.handle}/{self.id}"


PostListener = Callable[[SandboxPost], None]


class SandboxNetwork:
    """``SocialNetwork`` in memory: posts, read-back, token refresh and revocation."""

    network = SANDBOX

    def __init__(self, clock: Clock, on_post: PostListener | None = None) -> None:
        self._clock = clock
        self._on_post = on_post
        self._ids = itertools.count(1)
        self._posts: dict[str, list[SandboxPost]] = {}
        self._by_key: dict[tuple[str, str], SandboxPost] = {}
        self.revoked: set[str] = set()

    def link(self, remote_id: str) -> TokenSet:
        """Authorise an account (again, after a revocation) and hand out its tokens."""
        self.revoked.discard(remote_id)
        return TokenSet(SANDBOX_TOKEN)

    def posts_of(self, remote_id: str) -> list[SandboxPost]:
        return list(self._posts.get(remote_id, ()))

    @property
    def all_posts(self) -> list[SandboxPost]:
        return sorted(
            (post for posts in self._posts.values() for post in posts), key=lambda p: int(p.id)
        )

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        if account.remote_id in self.revoked:
            return PostOutcome(OutcomeKind.REVOKED, reason="token revoked")
        existing = self._by_key.get((account.remote_id, idempotency_key))
        if existing is not None:  # the same request again: the same post, not a second one
            return PostOutcome(OutcomeKind.POSTED, remote_id=existing.id, url=existing.url)
        if not text.strip():
            return PostOutcome(OutcomeKind.REJECTED, reason="empty post")
        limit = SANDBOX_SPEC.length.limit
        if weighted_length(text, SANDBOX_SPEC.length) > limit:
            return PostOutcome(OutcomeKind.REJECTED, reason=f"longer than {limit} characters")
        post = SandboxPost(
            id=str(next(self._ids)),
            account_id=account.remote_id,
            handle=account.handle,
            text=text,
            created_at=self._clock.now(),
            idempotency_key=idempotency_key,
        )
        self._posts.setdefault(account.remote_id, []).append(post)
        self._by_key[(account.remote_id, idempotency_key)] = post
        log.info("sandbox post %s by account %s", post.id, account.id)
        if self._on_post is not None:
            self._on_post(post)
        return PostOutcome(OutcomeKind.POSTED, remote_id=post.id, url=post.url)

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"{COMPOSE_BASE}?text={quote(text, safe='')}"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        if account.remote_id in self.revoked:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="token revoked"))
        return [
            RemotePost(remote_id=p.id, text=p.text, url=p.url, created_at=p.created_at)
            for p in self._posts.get(account.remote_id, ())
            if p.created_at >= since
        ]

    async def refresh(self, account: SocialAccount) -> TokenSet:
        if account.remote_id in self.revoked:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="token revoked"))
        return account.tokens

    async def revoke(self, account: SocialAccount) -> None:
        self.revoked.add(account.remote_id)
        log.info("sandbox tokens of account %s revoked", account.id)
