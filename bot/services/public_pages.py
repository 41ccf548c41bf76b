"""The public campaign page ``/c/{REF}``: what anyone may see of an approved campaign.

``PublicPages.show`` answers with plain values (the campaign, its figures derived from the
pledge rows and shared for a moment between views (``bot.services.figures``), a few posted
links once launched, the page's own addresses and the share links, the top recruiters by
how many people they brought, named only with their consent) or with ``Hidden`` when the
campaign is not public: never approved (draft, pending, rejected, expired
unmoderated), cancelled, or unknown. The web handler only renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from bot.domain.campaign import Campaign, CampaignStatus, JoinLink, normalise_ref
from bot.domain.cards import CampaignStats
from bot.domain.networks import Network, NetworkSpec
from bot.domain.refs import UserRef
from bot.ports import Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.campaign_media import is_public
from bot.services.cards import page_url
from bot.services.figures import FiguresCache
from bot.services.recruiter_names import ShownRecruiter
from bot.services.recruits import RecruitCodes
from bot.services.share_links import ShareLink, fill, share_links
from bot.services.web_supporters import chat_networks, web_networks

_REF_RE = re.compile(r"[A-Z0-9]{1,16}")
_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{5,32}")
# A public host name such as mastodon.social: letters, digits and hyphens, dot separated.
_HOST_RE = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True)
class PublicCampaign:
    """Everything the public page shows; ``time_left`` is None once the moment has passed;
    ``instance_shares`` are the networks shared through the visitor's own instance."""

    campaign: Campaign
    stats: CampaignStats
    page_url: str
    preview_url: str
    telegram_url: str | None
    share: tuple[ShareLink, ...]
    instance_shares: tuple[Network, ...]
    posts: tuple[str, ...]
    time_left: timedelta | None
    recruiters: tuple[ShownRecruiter, ...] = ()  # the top ones, named with their consent
    pledge_here: tuple[Network, ...] = ()  # networks a visitor pledges on from the page
    needs_chat: tuple[Network, ...] = ()  # networks pledged only through a chat
    via: str = ""  # the recruit code the visitor came with, carried to a pledge from here
    join: JoinLink | None = None  # a chat to join it in: the organiser's invite, or its card
    share_url: str = ""  # the page link to pass on: with ``via`` when the visitor came by one
    posted_by_network: tuple[tuple[Network, int], ...] = ()  # once launched, most first

    @property
    def launched(self) -> bool:
        return self.campaign.status is CampaignStatus.LAUNCHED

    @property
    def missed(self) -> bool:
        return self.campaign.status is CampaignStatus.FAILED


@dataclass(frozen=True)
class Hidden:
    """No public page: ``cancelled`` says the campaign existed and was cancelled."""

    cancelled: bool = False


def instance_host(text: str) -> str | None:
    """The host name a visitor typed as their instance, or None if it is not one.

    Accepts ``mastodon.social``, ``https://mastodon.social/`` and ``@me@mastodon.social``.
    """
    value = text.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.split("/", 1)[0].rsplit("@", 1)[-1]
    return value if _HOST_RE.fullmatch(value) else None


class PublicPages:
    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        registry: NetworkRegistry,
        public_url: str,
        telegram_bot_username: str | None,
        recruits: RecruitCodes,
        figures: FiguresCache | None = None,
    ) -> None:
        """``figures``: the cache that whatever changes pledges forgets (``bot.app``);
        without one, every view computes its own (only concurrent views share one)."""
        self.repo = repo
        if figures is None:
            figures = FiguresCache(repo, fresh_seconds=0, stale_seconds=0)
        self.figures = figures
        self.recruits = recruits
        self.clock = clock
        self.registry = registry
        self.public_url = public_url.rstrip("/")
        username = (telegram_bot_username or "").lstrip("@")
        self.telegram_bot = username if _USERNAME_RE.fullmatch(username) else None

    def page_url(self, ref: str) -> str:
        return page_url(self.public_url, ref)

    async def find(self, ref: str) -> Campaign | Hidden:
        """The public campaign called ``ref`` (``#k7qx2m`` and friends accepted), or Hidden."""
        wanted = normalise_ref(ref)
        if not _REF_RE.fullmatch(wanted):
            return Hidden()
        campaign = await self.repo.find_campaign(wanted)
        if campaign is None or not is_public(campaign):
            cancelled = campaign is not None and campaign.status is CampaignStatus.CANCELLED
            return Hidden(cancelled=cancelled)
        return campaign

    async def show(self, ref: str, via: str | None = None) -> PublicCampaign | Hidden:
        """The page; ``via`` is the recruit code of the supporter who shared it, carried to
        the Telegram Support link when it names a supporter of this campaign."""
        campaign = await self.find(ref)
        if isinstance(campaign, Hidden):
            return campaign
        assert campaign.id is not None
        launched = campaign.status is CampaignStatus.LAUNCHED
        shown = await self.figures.shown(campaign.id, with_posts=launched)
        stats = shown.stats
        by_network: tuple[tuple[Network, int], ...] = ()
        if launched:
            counts = stats.posted_by_network.items()
            by_network = tuple(
                (Network(n), c) for n, c in sorted(counts, key=lambda nc: (-nc[1], nc[0]))
            )
        left = campaign.launch_at - self.clock.now()
        url = self.page_url(campaign.ref)
        recruiter = await self.recruits.recruiter(campaign, via)
        kept_via = recruiter_code = ""
        if recruiter is not None:
            recruiter_code = self.recruits.code(campaign.ref, recruiter)
            kept_via = via or ""
        share_url = self.recruit_url(campaign.ref, recruiter_code)
        taking = campaign.open_for_pledges(self.clock.now())
        return PublicCampaign(
            campaign=campaign,
            stats=stats,
            page_url=url,
            preview_url=f"{url}/preview.png",
            telegram_url=self.telegram_link(campaign, recruiter),
            share=self.share_links(campaign.title, share_url),
            instance_shares=tuple(spec.id for spec in self.instance_specs()),
            posts=shown.posts,
            time_left=left if left > timedelta(0) else None,
            recruiters=shown.recruiters,
            pledge_here=web_networks(self.registry, campaign) if taking else (),
            needs_chat=chat_networks(self.registry, campaign) if taking else (),
            join=campaign.join_link if campaign.status is CampaignStatus.LIVE else None,
            via=kept_via,
            share_url=share_url,
            posted_by_network=by_network,
        )

    def recruit_url(self, ref: str, code: str = "") -> str:
        """The page link that credits the supporter whose code ``code`` is (none: the bare
        page link)."""
        return f"{self.page_url(ref)}?via={quote(code, safe='')}" if code else self.page_url(ref)

    def telegram_link(self, campaign: Campaign, recruiter: UserRef | None = None) -> str | None:
        """The bot's deep link that opens this campaign, while it takes pledges; with the
        recruiter's code (``REF_CODE``) when the visitor came through their link."""
        if self.telegram_bot is None or campaign.status is not CampaignStatus.LIVE:
            return None
        if recruiter is not None:
            payload = self.recruits.start_payload(campaign.ref, recruiter)
            return f"https://t.me/{self.telegram_bot}?start={payload}"
        return f"https://t.me/{self.telegram_bot}?start={campaign.ref}"

    def share_links(self, text: str, url: str) -> tuple[ShareLink, ...]:
        """The networks' share pages that need no instance, then the other places."""
        return share_links(self.registry, text, url)

    def instance_specs(self) -> list[NetworkSpec]:
        """The networks shared through the visitor's own instance (they type it)."""
        return [spec for spec in self.registry.share_specs() if spec.shares_on_instance]

    async def instance_share(self, ref: str, network: str, instance: str) -> str | Hidden | None:
        """The share page on the visitor's own instance of ``network`` for this campaign;
        None for an instance that is not a host name. Hidden for a campaign not public, or
        a network shared without an instance."""
        campaign = await self.find(ref)
        spec = next((s for s in self.instance_specs() if s.id == network), None)
        if isinstance(campaign, Hidden) or spec is None or spec.share_intent is None:
            return campaign if isinstance(campaign, Hidden) else Hidden()
        host = instance_host(instance)
        if host is None:
            return None
        url = self.page_url(campaign.ref)
        return fill(spec.share_intent, text=campaign.title, url=url, instance=host)
