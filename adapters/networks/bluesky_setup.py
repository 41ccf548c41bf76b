"""Bluesky's two halves put together: the network adapter and the account linker.

``BlueskyOAuth`` links accounts and owns their grants (refresh, revocation, the DPoP-bound
calls); ``BlueskyNetwork`` posts through a ``BlueskyPds`` built on those grants and reads the
public AppView, which the linker also uses for a new account's follower count. The runtime
and the tests build the pair here, the same way.
"""

from __future__ import annotations

from typing import Any

from bot.clock import SystemClock
from bot.ports import Clock, Repository
from bot.settings import Settings

from .bluesky import BlueskyNetwork, delivery_mode
from .bluesky_oauth import BlueskyOAuth
from .bluesky_pds import BlueskyPds


def build_bluesky(
    settings: Settings,
    repo: Repository | None,
    *,
    clock: Clock | None = None,
    **linker_options: Any,
) -> tuple[BlueskyNetwork, BlueskyOAuth]:
    """The adapter and the linker for this deployment; closing the adapter closes both.

    ``SettingsError`` when Chorus cannot be an OAuth client here (see ``BlueskyOAuth``).
    ``linker_options`` (``lookup``, ``handle_url``, ``deadline``...) are for tests; the
    adapter gets the same ``lookup``."""
    used_clock: Clock = clock or SystemClock()
    linker = BlueskyOAuth(
        settings, mode=delivery_mode(settings), repo=repo, clock=used_clock, **linker_options
    )
    extra = {k: v for k, v in linker_options.items() if k in ("lookup", "address_rule")}
    try:
        network = BlueskyNetwork(
            settings,
            pds=BlueskyPds(linker, used_clock),
            grants=linker,
            clock=used_clock,
            owns_grants=True,
            **extra,
        )
    except Exception:
        linker.close()
        raise
    linker.use_followers(network.followers)
    return network, linker
