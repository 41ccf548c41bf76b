"""The composition root: builds the core's services from explicit dependencies.

``build_core`` is what ``chorus run``, ``chorus console`` and the tests all call; the
tests hand it fakes (a fake clock, loopback network adapters), production hands it the
real ones. Nothing else in the core constructs a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.networks import Network
from bot.notifier import Notifier
from bot.ports import ChatFrontEnd, Clock, Repository, SocialNetwork
from bot.registry import NetworkRegistry
from bot.services.campaigns import CampaignService
from bot.services.card_updates import CardUpdater
from bot.services.chat_services import ChatServices
from bot.services.dialogs import DialogService
from bot.services.links import PledgeLinks
from bot.services.moderation import ModerationService
from bot.services.pledge_flow import PledgeFlow
from bot.services.pledges import PledgeService
from bot.services.revocations import Revocations
from bot.services.tap_links import TapLinks
from bot.services.taps import TapService
from bot.settings import Settings


@dataclass
class Core:
    """Every core service, wired once, shared by all front ends."""

    settings: Settings
    repo: Repository
    clock: Clock
    notifier: Notifier
    cards: CardUpdater
    campaigns: CampaignService
    moderation: ModerationService
    pledges: PledgeService
    dialogs: DialogService
    links: PledgeLinks
    tap_links: TapLinks
    taps: TapService
    pledge_flow: PledgeFlow
    revocations: Revocations
    registry: NetworkRegistry

    @property
    def networks(self) -> dict[Network, SocialNetwork]:
        """The adapters of the networks offered for new pledges."""
        return self.registry.networks()

    @property
    def chat(self) -> ChatServices:
        """The bundle a chat front end is built with."""
        return ChatServices(
            settings=self.settings,
            clock=self.clock,
            campaigns=self.campaigns,
            moderation=self.moderation,
            pledges=self.pledges,
            dialogs=self.dialogs,
        )


def build_core(
    settings: Settings,
    repo: Repository,
    clock: Clock,
    *,
    secret: str,
    registry: NetworkRegistry | None = None,
    front_ends: Iterable[ChatFrontEnd] = (),
    card_delay_seconds: float = 2.0,
) -> Core:
    """The core, posting on the networks of ``registry`` (default: none); their linkers
    link supporters' accounts on the pledge site."""
    registry = NetworkRegistry() if registry is None else registry
    notifier = Notifier(front_ends)
    cards = CardUpdater(repo, notifier, card_delay_seconds)
    min_lead = timedelta(minutes=settings.min_lead_minutes)
    revocations = Revocations(
        repo,
        clock,
        registry,
        concurrency=settings.blast_concurrency,
    )
    campaigns = CampaignService(
        repo,
        clock,
        notifier,
        cards,
        min_lead,
        revocations,
        registry,
        settings.max_pending_per_organiser,
    )
    links = PledgeLinks(secret, repo, clock, timedelta(minutes=settings.pledge_link_ttl_minutes))
    pledges = PledgeService(
        repo, clock, notifier, cards, campaigns, links, settings.public_url, registry, revocations
    )
    tap_links = TapLinks(
        secret, clock, settings.public_url, timedelta(minutes=settings.tap_readback_minutes)
    )
    pledge_flow = PledgeFlow(
        repo=repo,
        clock=clock,
        links=links,
        campaigns=campaigns,
        pledges=pledges,
        registry=registry,
        public_url=settings.public_url,
    )
    offered = tuple(entry.spec for entry in registry.entries())
    return Core(
        settings=settings,
        repo=repo,
        clock=clock,
        notifier=notifier,
        cards=cards,
        campaigns=campaigns,
        moderation=ModerationService(repo, clock, notifier, campaigns),
        pledges=pledges,
        dialogs=DialogService(repo, campaigns, clock, settings.timezone, min_lead, offered),
        links=links,
        tap_links=tap_links,
        taps=TapService(repo, clock, tap_links, registry),
        pledge_flow=pledge_flow,
        revocations=revocations,
        registry=registry,
    )
