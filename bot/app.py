"""The composition root: builds the core's services from explicit dependencies.

``build_core`` is what ``chorus run``, ``chorus console`` and the tests all call; the
tests hand it fakes (a fake clock, loopback network adapters), production hands it the
real ones. Nothing else in the core constructs a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.networks import Network
from bot.notifier import Notifier
from bot.ports import AccountLinker, ChatFrontEnd, Clock, Repository, SocialNetwork
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
    networks: dict[Network, SocialNetwork] = field(default_factory=dict)

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
    networks: Mapping[Network, SocialNetwork] = {},
    linkers: Mapping[Network, AccountLinker] = {},
    revokers: Mapping[Network, SocialNetwork] | None = None,
    front_ends: Iterable[ChatFrontEnd] = (),
    card_delay_seconds: float = 2.0,
) -> Core:
    """The core; ``linkers`` link supporters' accounts on the pledge site, ``revokers``
    (default: ``networks``) revoke tokens, also on networks no longer offered for new
    pledges."""
    notifier = Notifier(front_ends)
    cards = CardUpdater(repo, notifier, card_delay_seconds)
    min_lead = timedelta(minutes=settings.min_lead_minutes)
    revocations = Revocations(
        repo,
        clock,
        dict(networks if revokers is None else revokers),
        concurrency=settings.blast_concurrency,
    )
    campaigns = CampaignService(
        repo, clock, notifier, cards, min_lead, revocations, settings.max_pending_per_organiser
    )
    links = PledgeLinks(secret, repo, clock, timedelta(minutes=settings.pledge_link_ttl_minutes))
    modes = {network: settings.delivery_mode(network) for network in Network}
    pledges = PledgeService(
        repo, clock, notifier, cards, campaigns, links, settings.public_url, modes, revocations
    )
    offered = dict(networks)
    tap_links = TapLinks(
        secret, clock, settings.public_url, timedelta(minutes=settings.tap_readback_minutes)
    )
    pledge_flow = PledgeFlow(
        repo=repo,
        clock=clock,
        links=links,
        campaigns=campaigns,
        pledges=pledges,
        linkers=linkers,
        networks=offered,
        public_url=settings.public_url,
    )
    dialog_networks = tuple(
        n for n in (Network.X, Network.MASTODON, Network.SANDBOX) if n in networks
    )
    return Core(
        settings=settings,
        repo=repo,
        clock=clock,
        notifier=notifier,
        cards=cards,
        campaigns=campaigns,
        moderation=ModerationService(repo, clock, notifier, campaigns),
        pledges=pledges,
        dialogs=DialogService(
            repo, campaigns, clock, settings.timezone, min_lead, dialog_networks
        ),
        links=links,
        tap_links=tap_links,
        taps=TapService(repo, clock, tap_links, offered),
        pledge_flow=pledge_flow,
        revocations=revocations,
        networks=offered,
    )
