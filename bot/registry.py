"""The networks this Chorus runs with, as their adapters registered them.

The core iterates over this registry instead of naming networks: the dialog's network
list, message length rules, crash recovery, delivery modes and account display all come
from the ``NetworkSpec`` each adapter declared. The composition root registers one
adapter per line; adding a network is adding an adapter module and that line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.account import LinkedProfile, SocialAccount
from bot.domain.networks import DeliveryMode, Network, NetworkSpec, Recovery
from bot.ports import AccountLinker, SocialNetwork, TagCounter


@dataclass(frozen=True)
class NetworkEntry:
    """One registered network: its spec, its adapter and its effective delivery mode."""

    spec: NetworkSpec
    network: SocialNetwork
    linker: AccountLinker | None
    mode: DeliveryMode
    offered: bool  # False: kept only to revoke tokens linked while it was offered
    tag_counter: TagCounter | None = None  # reads public hashtag timelines, if it can


class NetworkRegistry:
    """The registered networks, in their declared order."""

    def __init__(self) -> None:
        self._entries: dict[Network, NetworkEntry] = {}
        self._known: dict[Network, NetworkSpec] = {}  # specs with no adapter here

    def know(self, spec: NetworkSpec) -> None:
        """Know a network with no adapter (not configured here): accounts linked on it
        earlier are still shown, and revoked by hand, as its spec says."""
        self._known[spec.id] = spec

    def register(
        self,
        spec: NetworkSpec,
        network: SocialNetwork,
        *,
        linker: AccountLinker | None = None,
        mode: DeliveryMode | None = None,
        offered: bool = True,
        tag_counter: TagCounter | None = None,
    ) -> None:
        """Add a network; ``mode`` (default: the spec's) must be one the spec supports;
        ``tag_counter``: how to count public posts with a hashtag there, if it can."""
        mode = spec.default_mode if mode is None else mode
        if mode not in spec.modes:
            raise ValueError(f"the {spec.id} network cannot deliver in {mode} mode")
        if spec.id in self._entries:
            raise ValueError(f"the {spec.id} network is registered twice")
        self._entries[spec.id] = NetworkEntry(spec, network, linker, mode, offered, tag_counter)

    def entries(self) -> list[NetworkEntry]:
        """Every network offered for new pledges, in order."""
        offered = (e for e in self._entries.values() if e.offered)
        return sorted(offered, key=lambda e: e.spec.order)

    def ids(self) -> tuple[Network, ...]:
        """The ids of the offered networks, in order."""
        return tuple(e.spec.id for e in self.entries())

    def networks(self) -> dict[Network, SocialNetwork]:
        """The offered networks' adapters."""
        return {e.spec.id: e.network for e in self.entries()}

    def linkers(self) -> dict[Network, AccountLinker]:
        """The offered networks' account linkers."""
        return {e.spec.id: e.linker for e in self.entries() if e.linker is not None}

    def tag_counters(self) -> dict[Network, TagCounter]:
        """Every registered network that can count public posts with a hashtag."""
        return {
            e.spec.id: e.tag_counter for e in self._entries.values() if e.tag_counter is not None
        }

    def revokers(self) -> dict[Network, SocialNetwork]:
        """Every registered network, offered or not: tokens linked earlier stay revocable."""
        return {e.spec.id: e.network for e in self._entries.values()}

    def __contains__(self, network: object) -> bool:
        return network in self._entries

    def spec(self, network: Network) -> NetworkSpec:
        """The spec of a registered network; ``KeyError`` for any other."""
        return self._entries[network].spec

    def specs(self, networks: Iterable[Network]) -> list[NetworkSpec]:
        """The specs of those of ``networks`` that are registered."""
        return [self._entries[n].spec for n in networks if n in self._entries]

    def share_specs(self) -> list[NetworkSpec]:
        """Every network known here whose spec declares a share page, in order; sharing
        needs no account with Chorus, so a network known but not configured counts too."""
        specs = {**self._known, **{n: e.spec for n, e in self._entries.items()}}
        return sorted((s for s in specs.values() if s.share_intent), key=lambda s: s.order)

    def _known_spec(self, network: Network) -> NetworkSpec | None:
        entry = self._entries.get(network)
        return self._known.get(network) if entry is None else entry.spec

    def delivery_mode(self, network: Network) -> DeliveryMode:
        """The network's effective delivery mode (its default when only known; auto for a
        network this registry never heard of)."""
        entry = self._entries.get(network)
        if entry is not None:
            return entry.mode
        spec = self._known.get(network)
        return DeliveryMode.AUTO if spec is None else spec.default_mode

    def delivery_modes(self) -> dict[Network, DeliveryMode]:
        return {n: e.mode for n, e in self._entries.items()}

    def recovery(self, network: Network) -> Recovery:
        """How a pledge caught mid-send is recovered (check first when unknown)."""
        spec = self._known_spec(network)
        return Recovery.CHECK_FIRST if spec is None else spec.recovery

    def display(self, account: SocialAccount | LinkedProfile) -> str:
        """The account as its owner knows it (``@handle`` for a network not registered);
        the one place an account's name is made, stored or just linked."""
        spec = self._known_spec(account.network)
        if spec is None:
            return f"@{account.handle}"
        return spec.display(account.handle, account.instance)

    def revoke_page(self, network: Network, instance: str) -> str:
        """Where a person removes Chorus from their connected apps by hand."""
        spec = self._known_spec(network)
        return "—" if spec is None else spec.revoke_page.format(instance=instance)
