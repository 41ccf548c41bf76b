"""A supporter's linked social account and its tokens.

Tokens are plaintext only in memory; storage encrypts them with ``bot.crypto`` before
they touch a disk. A follower count comes from a network, which may be a self-hosted
server answering anything: ``follower_count`` makes it a number the figures can add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.networks import Network
from bot.domain.refs import UserRef

# More than any real account has; a thousand million of these still fit a 64-bit sum.
FOLLOWERS_MAX = 1_000_000_000


def follower_count(reported: object) -> int:
    """A follower count as a network reported it, made sane: a whole number from 0 to
    ``FOLLOWERS_MAX``. Whatever is not a number (text that is not digits, a list, a
    boolean, NaN) counts 0, as does a negative; more than the maximum is the maximum."""
    value: int | float
    if isinstance(reported, bool):
        return 0
    if isinstance(reported, int | float):
        value = reported
    elif isinstance(reported, str) and reported.strip().isascii() and reported.strip().isdigit():
        digits = reported.strip().lstrip("0") or "0"
        value = int(digits[: len(str(FOLLOWERS_MAX)) + 1])  # more digits than that: too many
    else:
        return 0
    if value != value or value <= 0:  # NaN is the one value unequal to itself
        return 0
    return FOLLOWERS_MAX if value >= FOLLOWERS_MAX else int(value)


@dataclass(frozen=True)
class TokenSet:
    """OAuth tokens for one account. Never logged; ``repr`` hides them."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str = ""
    # An adapter's secret bound to these tokens (e.g. the private key of a sender-constrained
    # grant, with where to use it): kept, encrypted, wherever the tokens are.
    binding: str | None = None

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


@dataclass(frozen=True)
class LinkedProfile:
    """An account as its network described it after authorisation, with the tokens it gave.

    What an ``AccountLinker`` returns; the pledge service stores it as a ``SocialAccount``
    (or revokes its tokens when the pledge is refused). How either is shown to people is
    its network's: ``NetworkRegistry.display``.
    """

    network: Network
    instance: str
    remote_id: str
    handle: str
    followers: int
    tokens: TokenSet


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
