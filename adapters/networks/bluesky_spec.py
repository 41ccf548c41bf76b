"""What the core knows of Bluesky, with no AT Protocol SDK loaded.

The runtime knows this spec even where Bluesky is not set up (no client key on a public
deployment), so accounts linked while it was are still shown and revoked by hand; the
adapter (``bluesky``) and the linker (``bluesky_oauth``) load only when it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.domain.networks import DeliveryMode, LengthRule, Network, NetworkSpec, Recovery, Weighting
from bot.settings import Settings

BLUESKY = Network("bluesky")
POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300  # app.bsky.feed.post#text maxGraphemes
# auto: creating posts and nothing else (a granular permission: no deleting, no other
# record type, no blobs, no account settings); tap: identity only, no write permission.
AUTO_SCOPES = ("atproto", f"repo:{POST_COLLECTION}?action=create")
TAP_SCOPES = ("atproto",)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
BLUESKY_SPEC = NetworkSpec(
    id=BLUESKY,
    order=3,
    length=LengthRule(limit=MAX_GRAPHEMES, url_weight=None, weighting=Weighting.GRAPHEMES),
    default_mode=DeliveryMode.AUTO,
    modes=frozenset(DeliveryMode),
    scopes={DeliveryMode.AUTO: AUTO_SCOPES, DeliveryMode.TAP: TAP_SCOPES},
    recovery=Recovery.RESEND,  # the record key is derived from the pledge: no double post
    typed_instance=True,  # the supporter types their handle; it leads to their server
    instance_prompt="web.pledge.handle",
    account_format="@{handle}",
    # The authorization server's account page lists connected apps ("Connected apps" on
    # bsky.social/account). ``SocialAccount.instance`` is that server's host (the one that
    # granted the tokens: the entryway bsky.social for most, the PDS for a self-hosted one).
    revoke_page="https://{instance}/account",
    share_intent="https://bsky.app/intent/compose?text={text}%20{url}",
)


def bluesky_enabled(settings: Settings) -> bool:
    """Bluesky needs no app registration: it is on when Chorus can be an OAuth client,
    with BLUESKY_CLIENT_KEY (confidential client), or on a loopback PUBLIC_URL (the
    loopback client of local development, which needs no hosting)."""
    key = settings.bluesky_client_key
    if key is not None and key.get_secret_value().strip():
        return True
    return (urlsplit(settings.public_url).hostname or "") in LOOPBACK_HOSTS
