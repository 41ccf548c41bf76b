"""A supporter's linked social account and its tokens.

Tokens are plaintext only in memory; storage encrypts them with ``bot.crypto`` before
they touch a disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.networks import Network
from bot.domain.refs import UserRef


@dataclass(frozen=True)
class TokenSet:
    """OAuth tokens for one account. Never logged; ``repr`` hides them."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str = ""

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"

    def expires_before(self, moment: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment


@dataclass(frozen=True)
class SocialAccount:
    """An account on a social network that a supporter authorised Chorus to use."""

    owner: UserRef
    network: Network
    instance: str  # "x.com", a Mastodon domain, "sandbox"
    remote_id: str
    handle: str
    followers: int
    tokens: TokenSet
    linked_at: datetime
    id: int | None = None
    revoked: bool = False

    @property
    def display(self) -> str:
        if self.network is Network.MASTODON:
            return f"@{self.handle}@{self.instance}"
        return f"@{self.handle}"


@dataclass(frozen=True)
class PendingRevocation:
    """Tokens erased from an account and not yet confirmed revoked at their network.

    Only what revoking needs is kept: the network, the instance and the tokens.
    """

    id: int
    network: Network
    instance: str
    tokens: TokenSet
    queued_at: datetime
    account_id: int | None = None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    last_error: str | None = None
