"""What the core knows about a social network: its id and what its adapter declares.

The core names no network. Each network adapter declares a ``NetworkSpec`` (its limits,
delivery modes, crash recovery, how an account is shown) and registers it at the
composition root; the core only reads specs through the ``NetworkRegistry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Network(str):
    """A social network's id (``"x"``, ``"mastodon"``), stored as text; open to any adapter."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Network({str(self)!r})"


class DeliveryMode(StrEnum):
    """How a pledge's post leaves at the launch moment.

    ``auto``: Chorus posts with the supporter's own token.
    ``tap``: the supporter gets a one-tap prefilled compose link in their chat and
    Chorus reads back afterwards who really posted.
    """

    AUTO = "auto"
    TAP = "tap"


class Recovery(StrEnum):
    """What to do with a pledge found SENDING after a restart (or retried after a timeout)."""

    RESEND = "resend"  # the network dedupes on the idempotency key (Mastodon)
    CHECK_FIRST = "check_first"  # read the account's recent posts; re-send only if absent


class Weighting(StrEnum):
    """How a network counts the characters of a post's text outside its URLs."""

    CODE_POINTS = "code_points"  # each code point weighs 1
    TWITTER_TEXT = "twitter_text"  # twitter-text v3: NFC, heavy ranges and emoji weigh 2
    GRAPHEMES = "graphemes"  # each extended grapheme cluster (what a reader sees) weighs 1


@dataclass(frozen=True)
class LengthRule:
    """How long a post may be on a network and how its length is counted."""

    limit: int
    url_weight: int | None = 23  # every URL weighs this much; None: URLs count as written
    weighting: Weighting = Weighting.CODE_POINTS


@dataclass(frozen=True)
class NetworkSpec:
    """What a network adapter declares about its network; the core iterates over these."""

    id: Network
    order: int  # position on the pledge page and in the /newcampaign dialog (lowest first)
    length: LengthRule
    default_mode: DeliveryMode = DeliveryMode.AUTO
    modes: frozenset[DeliveryMode] = frozenset({DeliveryMode.AUTO})
    # OAuth scopes each delivery mode needs (informative; the adapter asks for them)
    scopes: Mapping[DeliveryMode, tuple[str, ...]] = field(default_factory=dict)
    recovery: Recovery = Recovery.CHECK_FIRST
    typed_instance: bool = False  # linking asks the supporter to type their instance
    # the catalogue key of that field's label (its help text: the same key + "_help"),
    # for a network where what is typed is not an instance (a handle, say)
    instance_prompt: str = "web.pledge.instance"
    account_format: str = "@{handle}"  # how an account is shown; {handle} and {instance}
    revoke_page: str = "—"  # where a person removes Chorus by hand; may use {instance}
    # A compose page anyone may open to share a link, no account with Chorus needed:
    # {text} and {url} (URL-encoded by the core), and {instance} when ``typed_instance``.
    share_intent: str | None = None

    @property
    def name_key(self) -> str:
        """The catalogue key of the network's display name."""
        return f"network.{self.id}"

    def display(self, handle: str, instance: str) -> str:
        return self.account_format.format(handle=handle, instance=instance)
