"""The composition root: the one place where Chorus is wired.

``build_chorus`` builds every object once, in dependency order, and hands each only what it
uses; nothing is set on an object after it is built. ``chorus run`` (``bot.runtime``),
``chorus console`` (``adapters.console.app``) and the tests all call it, each with its own
parts plugged in: the repository, the clock, the network registry (with its linkers), the
outbound chat front ends and the tunings. The ``Chorus`` it returns is what they start,
stop and reach into; no consumer is handed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.blast import Blast, BlastTuning
from bot.domain.networks import Network
from bot.leadership import Duty, SoleLeadership, Succession
from bot.maintenance import Maintenance, maintenance_jobs
from bot.metrics import Metrics
from bot.notifier import Notifier
from bot.ports import (
    BlastQueue,
    ChatFrontEnd,
    Clock,
    Leadership,
    PictureStore,
    Repository,
    SocialNetwork,
)
from bot.registry import NetworkRegistry
from bot.role import RoleState
from bot.scheduler import LaunchScheduler
from bot.services.announcer import Announcer
from bot.services.campaign_edits import CampaignEditService
from bot.services.campaign_media import CampaignMedia
from bot.services.campaigns import CampaignService
from bot.services.card_updates import CardUpdater
from bot.services.channels import ChannelDirectory
from bot.services.chat_services import ChatServices
from bot.services.dialogs import DialogService
from bot.services.expiry import Expiry
from bot.services.figures import FiguresCache
from bot.services.links import PledgeLinks
from bot.services.manage_links import ManageLinks
from bot.services.moderation import ModerationService
from bot.services.pictures import MemoryPictureStore, PictureService
from bot.services.pledge_flow import PledgeFlow
from bot.services.pledges import PledgeService
from bot.services.post_now import PostNow
from bot.services.public_pages import PublicPages
from bot.services.recruiter_names import RecruiterConsent
from bot.services.recruits import RecruitCodes
from bot.services.revocations import Revocations
from bot.services.shared_cards import SharedCards
from bot.services.stats import StatsService
from bot.services.status_report import StatusReport
from bot.services.tap_links import TapLinks
from bot.services.taps import TapService
from bot.services.trend import TrendCount
from bot.services.updates import UpdateService
from bot.services.web_supporters import WebSupporters
from bot.settings import Settings
from bot.web import create_web_app
from bot.web.operations import Operations


@dataclass(frozen=True)
class Chorus:
    """Every object of one Chorus process, built once by ``build_chorus``.

    The runtime, the console and the tests start and stop the parts through it and reach
    the services in tests; it is handed to no consumer.
    """

    settings: Settings
    repo: Repository
    clock: Clock
    registry: NetworkRegistry
    notifier: Notifier
    cards: CardUpdater
    announcer: Announcer
    revocations: Revocations
    tap_links: TapLinks
    blast: Blast
    expiry: Expiry
    scheduler: LaunchScheduler
    campaigns: CampaignService
    moderation: ModerationService
    links: PledgeLinks
    pledges: PledgeService
    dialogs: DialogService
    pledge_flow: PledgeFlow
    taps: TapService
    public_pages: PublicPages
    updates: UpdateService
    chat: ChatServices  # what a chat front end is built with
    web_app: web.Application  # the pledge site, not yet served
    maintenance: Maintenance  # not yet started
    succession: Succession  # starts the scheduler, maintenance and duties while leading
    metrics: Metrics  # served at /metrics
    role: RoleState  # leader or follower, set by the runtime (or leader election)

    @property
    def networks(self) -> dict[Network, SocialNetwork]:
        """The adapters of the networks offered for new pledges."""
        return self.registry.networks()


def build_chorus(
    settings: Settings,
    repo: Repository,
    clock: Clock,
    *,
    secret: str,
    registry: NetworkRegistry | None = None,
    front_ends: Iterable[ChatFrontEnd] = (),
    card_delay_seconds: float = 2.0,
    tuning: BlastTuning | None = None,
    pictures: PictureStore | None = None,
    leadership: Leadership | None = None,
    metrics: Metrics | None = None,
    role: RoleState | None = None,
    web_routes: Iterable[web.AbstractRouteDef] = (),
    blast_queue: BlastQueue | None = None,
    duties: Mapping[str, Duty] | None = None,
    figures: FiguresCache | None = None,
) -> Chorus:
    """Chorus, posting on the networks of ``registry`` (default: none; their linkers link
    supporters' accounts on the pledge site) and talking through ``front_ends``; campaign
    pictures are kept in ``pictures`` (default: in memory, for builders that keep no files);
    leading whenever ``leadership`` says so (default: always, a single process); the pledge
    site also serves ``web_routes`` (a front end's webhook); ``duties`` (by name) run after
    maintenance while this process leads (a front end's webhook registration, polling or
    gateway); ``figures`` are the figures shown to people asking (default: a cache over
    ``repo``)."""
    registry = NetworkRegistry() if registry is None else registry
    tuning = BlastTuning() if tuning is None else tuning
    metrics = Metrics() if metrics is None else metrics
    role = RoleState() if role is None else role  # one process alone leads
    min_lead = timedelta(minutes=settings.min_lead_minutes)
    notifier = Notifier(front_ends)
    figures = FiguresCache(repo) if figures is None else figures  # forgotten on every change
    cards = CardUpdater(
        repo,
        notifier,
        card_delay_seconds,
        settings.public_url,
        clock=clock,
        on_change=figures.forget,
        on_refresh=figures.refresh,
    )
    announcer = Announcer(repo, notifier)
    revocations = Revocations(repo, clock, registry, concurrency=settings.blast_concurrency)
    tap_links = TapLinks(
        secret, clock, settings.public_url, timedelta(minutes=settings.tap_readback_minutes)
    )
    blast = Blast(
        repo=repo,
        clock=clock,
        notifier=notifier,
        registry=registry,
        settings=settings,
        cards=cards,
        tap_links=tap_links,
        revocations=revocations,
        announcer=announcer,
        tuning=tuning,
        metrics=metrics,
        queue=blast_queue,
    )
    expiry = Expiry(repo, clock, notifier)
    trend = TrendCount(
        repo,
        registry,
        notifier,
        max_servers=settings.trend_max_servers,
        concurrency=tuning.tap_concurrency,
    )
    scheduler = LaunchScheduler(
        repo=repo,
        clock=clock,
        settings=settings,
        blast=blast,
        expiry=expiry,
        tuning=tuning,
        trend=trend if settings.trend_max_servers else None,
    )
    maintenance = Maintenance(maintenance_jobs(settings, repo, clock, revocations))
    succession = Succession(
        SoleLeadership() if leadership is None else leadership,
        repo,
        scheduler,
        {"maintenance": maintenance, **(duties or {})},
        poll_seconds=settings.leader_poll_seconds,
        state=role,
    )
    campaigns = CampaignService(
        repo,
        clock,
        notifier,
        cards,
        min_lead,
        revocations,
        registry,
        watcher=succession,
        max_pending=settings.max_pending_per_organiser,
        public_url=settings.public_url,
    )
    moderation = ModerationService(
        repo, clock, notifier, campaigns, public_url=settings.public_url
    )
    recruits = RecruitCodes(secret, repo)
    links = PledgeLinks(secret, repo, clock, timedelta(minutes=settings.pledge_link_ttl_minutes))
    pledges = PledgeService(
        repo,
        clock,
        notifier,
        cards,
        campaigns,
        links,
        settings.public_url,
        registry,
        revocations,
        announcer,
        recruits,
    )
    offered = tuple(entry.spec for entry in registry.entries())
    picture_service = PictureService(
        MemoryPictureStore() if pictures is None else pictures, settings.picture_max_bytes
    )
    dialogs = DialogService(
        repo, campaigns, clock, settings.timezone, min_lead, offered, picture_service
    )
    manage_links = ManageLinks(secret, clock, settings.public_url)
    pledge_flow = PledgeFlow(
        repo=repo,
        clock=clock,
        links=links,
        campaigns=campaigns,
        pledges=pledges,
        registry=registry,
        public_url=settings.public_url,
        manage=manage_links,
    )
    consent = RecruiterConsent(repo, pledges, figures)
    web_supporters = WebSupporters(
        links=links,
        manage=manage_links,
        pledges=pledges,
        registry=registry,
        recruits=recruits,
        recruiters=consent,
    )
    taps = TapService(repo, clock, tap_links, registry)
    public_pages = PublicPages(
        repo,
        clock,
        registry,
        settings.public_url,
        settings.telegram_bot_username,
        recruits,
        figures,
    )
    media = CampaignMedia(repo, picture_service)
    updates = UpdateService(
        repo,
        clock,
        notifier,
        campaigns,
        per_day=settings.updates_per_day,
        concurrency=tuning.tap_concurrency,
    )
    stats = StatsService(repo, campaigns)
    chat = ChatServices(
        settings=settings,
        clock=clock,
        campaigns=campaigns,
        moderation=moderation,
        pledges=pledges,
        dialogs=dialogs,
        shared_cards=SharedCards(repo, clock),
        channels=ChannelDirectory(repo, clock),
        updates=updates,
        recruiters=consent,
        status=StatusReport(public_pages, clock),
        post_now=PostNow(repo, clock, registry, tap_links, notifier, cards),
        stats=stats,
        edits=CampaignEditService(
            repo, clock, notifier, campaigns, pledges, registry, settings.timezone, min_lead
        ),
    )
    return Chorus(
        settings=settings,
        repo=repo,
        clock=clock,
        registry=registry,
        notifier=notifier,
        cards=cards,
        announcer=announcer,
        revocations=revocations,
        tap_links=tap_links,
        blast=blast,
        expiry=expiry,
        scheduler=scheduler,
        campaigns=campaigns,
        moderation=moderation,
        links=links,
        pledges=pledges,
        dialogs=dialogs,
        pledge_flow=pledge_flow,
        taps=taps,
        public_pages=public_pages,
        updates=updates,
        chat=chat,
        web_app=create_web_app(
            settings,
            clock,
            pledge_flow,
            taps,
            media,
            public_pages,
            web_supporters,
            stats,
            operations=Operations(settings, repo, metrics, role),
            extra_routes=web_routes,
        ),
        maintenance=maintenance,
        succession=succession,
        metrics=metrics,
        role=role,
    )
