""" "Did we trend?": the public posts carrying a campaign's hashtag in the hour after launch.

A network that can read a public hashtag timeline answers with a ``TagSample`` per
server: the addresses of the posts it saw in the window. Addresses, not counts, so the
same post seen on two servers counts once and the supporters' own posts (whose addresses
the pledges keep) can be told apart from everyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.message_rules import HASHTAG_RE

WINDOW = timedelta(hours=1)  # counted from the launch moment


@dataclass(frozen=True)
class TagSample:
    """What one server's public tag timeline showed in the window."""

    urls: frozenset[str]
    complete: bool  # False: the page cap stopped the reading before the window's start


@dataclass(frozen=True)
class NetworkTrend:
    """The count on one network, over the servers of its supporters that answered."""

    network: str
    servers: int  # servers read
    unanswered: int  # servers asked that did not answer
    pledged: int  # posts of our supporters (by address)
    others: int  # everyone else's posts with the hashtag
    complete: bool

    @property
    def total(self) -> int:
        return self.pledged + self.others


def campaign_hashtag(message: str) -> str | None:
    """The first hashtag of the campaign's message, without ``#``; None if it has none."""
    found = HASHTAG_RE.search(message)
    return found.group(1) if found else None
