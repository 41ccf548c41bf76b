"""An in-memory social network: the ``SocialNetwork`` port with scripted outcomes.

A port-level fake adapter for unit tests of the scheduler and the blast: it records
every post (deduplicating on the idempotency key like Mastodon when asked to), answers
with outcomes a test scripts per account, can be slow, keeps each account's timeline so
read-back and crash recovery have something to read, and refreshes (storing the new
tokens, as the port says) or refuses tokens.
The wire-level fakes (loopback HTTP servers) live next to it for adapter tests.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from adapters.networks import mastodon, x_spec
from adapters.networks.mastodon import MASTODON, MASTODON_SPEC
from adapters.networks.sandbox import SANDBOX_SPEC
from adapters.networks.x import X_SPEC, X
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.networks import Network
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.ports import AccountLinker, Clock, NetworkFailure, Repository, SocialNetwork
from bot.registry import NetworkRegistry
from bot.settings import Settings


@dataclass
class RecordedPost:
    account_id: int
    text: str
    idempotency_key: str
    remote_id: str


@dataclass
class FakeNetwork:
    """A social network held in memory. Script outcomes with ``script``."""

    network: Network
    clock: Clock
    repo: Repository  # where a refresh stores the new tokens, as the port requires
    latency: float = 0.0  # seconds per request
    dedupe: bool = False  # True: the same idempotency key posts once (Mastodon)
    followers_url: str = "https://fake.example"
    posts: list[RecordedPost] = field(default_factory=list)
    attempts: list[tuple[int, str]] = field(default_factory=list)  # (account id, kind)
    refreshed: list[int] = field(default_factory=list)
    revoked_at_network: list[int] = field(default_factory=list)
    refuse_refresh: set[int] = field(default_factory=set)  # account ids whose grant is gone
    fail_reads: set[int] = field(default_factory=set)
    during_refresh: Callable[[], Awaitable[None]] | None = None  # runs inside each refresh
    _scripts: dict[int, deque[PostOutcome]] = field(default_factory=lambda: defaultdict(deque))
    _timelines: dict[int, list[RemotePost]] = field(default_factory=lambda: defaultdict(list))
    _by_key: dict[str, RecordedPost] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    in_flight: int = 0
    peak_in_flight: int = 0

    # --- scripting -------------------------------------------------------------------

    def script(self, account_id: int, *outcomes: PostOutcome) -> None:
        """The next posts of ``account_id`` answer these outcomes, in order (then POSTED)."""
        self._scripts[account_id].extend(outcomes)

    def script_kind(self, account_id: int, kind: OutcomeKind, times: int = 1) -> None:
        self.script(account_id, *[PostOutcome(kind, reason=kind.value) for _ in range(times)])

    def user_posts(self, account: SocialAccount, text: str, at: datetime | None = None) -> None:
        """The supporter posted ``text`` themselves (a tap, or another client)."""
        assert account.id is not None
        remote_id = str(next(self._ids))
        self._timelines[account.id].append(
            RemotePost(remote_id, text, self._url(remote_id), at or self.clock.now())
        )

    # --- what tests read -------------------------------------------------------------

    def posts_of(self, account_id: int) -> list[RecordedPost]:
        return [p for p in self.posts if p.account_id == account_id]

    def texts_of(self, account_id: int) -> list[str]:
        return [p.text for p in self._timelines.get(account_id, [])]

    # --- the port ----------------------------------------------------------------------

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        assert account.id is not None
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        script = self._scripts.get(account.id)
        outcome = script.popleft() if script else PostOutcome(OutcomeKind.POSTED)
        self.attempts.append((account.id, outcome.kind.value))
        if not outcome.ok:
            if outcome.kind is OutcomeKind.NETWORK_DOWN and outcome.reason == "landed":
                self._record(account, text, idempotency_key)  # posted, but the answer was lost
            return outcome
        if self.dedupe and idempotency_key in self._by_key:
            previous = self._by_key[idempotency_key]
            return PostOutcome(
                OutcomeKind.POSTED, remote_id=previous.remote_id, url=self._url(previous.remote_id)
            )
        recorded = self._record(account, text, idempotency_key)
        return PostOutcome(
            OutcomeKind.POSTED, remote_id=recorded.remote_id, url=self._url(recorded.remote_id)
        )

    def _record(self, account: SocialAccount, text: str, key: str) -> RecordedPost:
        assert account.id is not None
        remote_id = str(next(self._ids))
        recorded = RecordedPost(account.id, text, key, remote_id)
        self.posts.append(recorded)
        self._by_key[key] = recorded
        self._timelines[account.id].append(
            RemotePost(remote_id, text, self._url(remote_id), self.clock.now())
        )
        return recorded

    def _url(self, remote_id: str) -> str:
        return f"{self.followers_url}/{self.network}/status/{remote_id}"

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"{self.followers_url}/{self.network}/compose?text={quote(text)}"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        assert account.id is not None
        if account.id in self.fail_reads:
            raise NetworkFailure(PostOutcome(OutcomeKind.NETWORK_DOWN, reason="read failed"))
        return [p for p in self._timelines.get(account.id, []) if p.created_at >= since]

    async def refresh(self, account: SocialAccount) -> TokenSet:
        assert account.id is not None
        if self.during_refresh is not None:
            await self.during_refresh()
        if account.id in self.refuse_refresh:
            raise NetworkFailure(PostOutcome(OutcomeKind.REVOKED, reason="invalid_grant"))
        self.refreshed.append(account.id)
        tokens = TokenSet(
            access_token=f"refreshed-test-token-not-real-{account.id}",
            refresh_token="refresh-test-token-not-real",
            expires_at=self.clock.now() + timedelta(days=1),
        )
        await self.repo.update_tokens(account.id, tokens)
        return tokens

    async def revoke(self, account: SocialAccount) -> None:
        assert account.id is not None
        self.revoked_at_network.append(account.id)


def registry_of(
    settings: Settings,
    networks: Mapping[Network, SocialNetwork],
    *,
    revokers: Mapping[Network, SocialNetwork] | None = None,
    linkers: Mapping[Network, AccountLinker] | None = None,
) -> NetworkRegistry:
    """A registry over (fake) adapters, each registered with its own network's spec and
    mode as ``bot.runtime`` registers the real ones; ``revokers`` (default: the networks)
    revoke tokens: one missing there is not registered at all, one missing from
    ``networks`` is registered but not offered; ``linkers`` (default: none) link accounts
    on the pledge site."""
    registry = NetworkRegistry()
    registry.know(X_SPEC)  # as bot.runtime does
    revoking = networks if revokers is None else revokers
    for network in {**revoking, **networks}:
        if network not in revoking:
            continue
        adapter = networks.get(network, revoking[network])
        linker = (linkers or {}).get(network)
        _register(registry, network, adapter, linker, settings, offered=network in networks)
    return registry


def _register(
    registry: NetworkRegistry,
    network: Network,
    adapter: SocialNetwork,
    linker: AccountLinker | None,
    settings: Settings,
    *,
    offered: bool,
) -> None:
    if network == X:
        mode = x_spec.delivery_mode(settings)
        registry.register(X_SPEC, adapter, linker=linker, mode=mode, offered=offered)
    elif network == MASTODON:
        mode = mastodon.delivery_mode(settings)
        counter = adapter if hasattr(adapter, "tagged_posts") else None  # the real adapter
        registry.register(
            MASTODON_SPEC, adapter, linker=linker, mode=mode, offered=offered, tag_counter=counter
        )
    else:
        registry.register(SANDBOX_SPEC, adapter, linker=linker, offered=offered)
