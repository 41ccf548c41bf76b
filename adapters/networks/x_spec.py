"""What X is to the core, without its SDK: the composition root always knows X's spec, so
accounts linked while X was configured are still shown and revoked by hand as X says."""

from __future__ import annotations

from bot.domain.networks import (
    DeliveryMode,
    LengthRule,
    Network,
    NetworkSpec,
    Recovery,
    Weighting,
)
from bot.settings import Settings

X = Network("x")
_READ_SCOPES = ("tweet.read", "users.read", "offline.access")
X_SPEC = NetworkSpec(
    id=X,
    order=1,
    length=LengthRule(limit=280, url_weight=23, weighting=Weighting.TWITTER_TEXT),
    default_mode=DeliveryMode.TAP,
    modes=frozenset(DeliveryMode),
    scopes={
        DeliveryMode.TAP: _READ_SCOPES,
        DeliveryMode.AUTO: ("tweet.read", "tweet.write", "users.read", "offline.access"),
    },
    recovery=Recovery.CHECK_FIRST,  # X keeps no idempotency key: read the timeline first
    revoke_page="https://x.com/settings/connected_apps",
    share_intent="https://x.com/intent/post?text={text}&url={url}",
)


def delivery_mode(settings: Settings) -> DeliveryMode:
    """How X delivers on this Chorus: X_DELIVERY."""
    return settings.x_delivery
