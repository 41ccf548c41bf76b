"""Campaign figures for its organiser: ``/stats REF`` and its CSV export.

Everything is derived from the pledge rows and their accounts, never stored, so the
figures cannot drift from what happened. A pledge's *source* is what the pledge itself
records: the platform the supporter pledged from (a chat front end, or the public page
for web pledges), the chat whose card they pressed (when known) and whether a recruit
link brought them. The organiser sees these
figures (moderators too, when their front end says they moderate); the CSV holds one row
per pledge with no personal identifier (no name, no handle, no account, no token), and
every cell that a spreadsheet would read as a formula is neutralised.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.charts import render_supporters_chart
from bot.domain.campaign import Campaign, CampaignStatus, normalise_ref
from bot.domain.errors import NotAllowed
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import Text, t
from bot.ports import Repository
from bot.services.campaigns import CampaignService
from bot.services.web_supporters import is_web

WEB_SOURCE = "web"
RECRUIT_SUFFIX = "+recruit"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("time", "network", "source", "recruited", "status", "reach", "chat")
RECRUITERS_SHOWN = 5
PUBLIC_REF_RE = re.compile(r"[A-Z0-9]{1,16}")


@dataclass(frozen=True)
class PledgeFigure:
    """One pledge as the figures see it: no identity, only what can be counted."""

    at: datetime
    network: str
    source: str  # the platform pledged from ("telegram", "discord", "web", ...)
    recruited: bool
    status: PledgeStatus
    reach: int
    person: str  # an opaque key to count people once; never exported
    chat: str = ""  # "platform:id" of the chat whose card it came from, "" if unknown
    chat_title: str = ""  # that chat's title, when it was known


@dataclass(frozen=True)
class CampaignFigures:
    campaign: Campaign
    pledges: tuple[PledgeFigure, ...]
    recruiters: tuple[int, ...] = ()  # people each top recruit link brought, most first

    @property
    def active(self) -> tuple[PledgeFigure, ...]:
        return tuple(p for p in self.pledges if p.status is not PledgeStatus.WITHDRAWN)

    @property
    def supporters(self) -> int:
        return len({p.person for p in self.active})

    @property
    def reach(self) -> int:
        return sum(p.reach for p in self.active)

    def by_network(self) -> dict[str, int]:
        """Pledged accounts per network (withdrawn ones left out), most first."""
        return dict(Counter(p.network for p in self.active).most_common())

    def posted_by_network(self) -> dict[str, int]:
        posted = (p.network for p in self.pledges if p.status is PledgeStatus.POSTED)
        return dict(Counter(posted).most_common())

    def by_source(self) -> dict[str, int]:
        """People per source (the source of their first pledge), most first."""
        first: dict[str, PledgeFigure] = {}
        for pledge in sorted(self.active, key=lambda p: p.at):
            first.setdefault(pledge.person, pledge)
        keys = (p.source + (RECRUIT_SUFFIX if p.recruited else "") for p in first.values())
        return dict(Counter(keys).most_common())

    def by_chat(self) -> list[tuple[str, str, int]]:
        """(chat key, its title or "", people) per chat their first pledge came from,
        most first; people from no known chat are left out."""
        first: dict[str, PledgeFigure] = {}
        for pledge in sorted(self.active, key=lambda p: p.at):
            first.setdefault(pledge.person, pledge)
        counts = Counter(p.chat for p in first.values() if p.chat)
        titles = {p.chat: p.chat_title for p in self.pledges if p.chat and p.chat_title}
        return [(chat, titles.get(chat, ""), n) for chat, n in counts.most_common()]

    def supporters_over_time(self) -> list[tuple[datetime, int]]:
        """Cumulative people, one point per bucket (hour, or day past two days)."""
        firsts = sorted(
            min(p.at for p in self.active if p.person == person)
            for person in {p.person for p in self.active}
        )
        if not firsts:
            return []
        step = timedelta(hours=1) if firsts[-1] - firsts[0] <= timedelta(days=2) else None
        start = _floor(firsts[0], step)
        end = _floor(firsts[-1], step)
        points: list[tuple[datetime, int]] = []
        moment, index = start, 0
        while moment <= end:
            following = moment + (step or timedelta(days=1))
            while index < len(firsts) and firsts[index] < following:
                index += 1
            points.append((moment, index))
            moment = following
        return points


def _floor(moment: datetime, step: timedelta | None) -> datetime:
    if step is None:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def source_of(pledge: Pledge) -> str:
    return WEB_SOURCE if is_web(pledge.supporter) else pledge.supporter.platform


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: formula starts get a leading quote."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def figures_csv(figures: CampaignFigures) -> bytes:
    """One row per pledge, oldest first; UTF-8 with a BOM so spreadsheets read accents."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for p in sorted(figures.pledges, key=lambda p: p.at):
        row = (
            p.at.isoformat(timespec="seconds"),
            p.network,
            p.source,
            "yes" if p.recruited else "no",
            p.status.value,
            str(p.reach),
            p.chat_title or p.chat,
        )
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode()


def _source_label(key: str) -> Text:
    base, recruited = key.removesuffix(RECRUIT_SUFFIX), key.endswith(RECRUIT_SUFFIX)
    where = t("stats.source_web") if base == WEB_SOURCE else t("stats.source_chat", platform=base)
    return t("stats.source_recruited", where=where) if recruited else where


def figures_message(figures: CampaignFigures) -> OutgoingMessage:
    """The caption under the chart: totals, by network, sources."""
    campaign = figures.campaign
    posted = figures.posted_by_network()
    networks = [
        t("stats.network_line", network=n, count=c, posted=posted.get(n, 0))
        for n, c in figures.by_network().items()
    ]
    sources = [
        t("stats.source_line", source=_source_label(k), count=c)
        for k, c in figures.by_source().items()
    ]
    parts: list[Text] = [
        t("stats.header", title=campaign.title, ref=campaign.ref),
        t("stats.totals", supporters=figures.supporters, accounts=len(figures.active)),
        t("stats.reach", reach=figures.reach),
    ]
    if networks:
        parts += [t("stats.by_network"), *networks]
    if sources:
        parts += [t("stats.by_source"), *sources]
    chats = figures.by_chat()
    if chats:
        parts.append(t("stats.by_chat"))
        parts += [
            t(
                "stats.chat_line",
                chat=title or key.partition(":")[2],
                platform=key.partition(":")[0],
                count=n,
            )
            for key, title, n in chats
        ]
    if figures.recruiters:
        counts = ", ".join(str(n) for n in figures.recruiters)
        parts.append(t("stats.recruiters", counts=counts))
    if not figures.active:
        parts.append(t("stats.none_yet"))
    return OutgoingMessage.of(*parts)


class StatsService:
    """Reads a campaign's figures for the people allowed to see them; built once by the root."""

    def __init__(self, repo: Repository, campaigns: CampaignService) -> None:
        self.repo = repo
        self.campaigns = campaigns

    async def figures(
        self, ref: str, requester: UserRef | None, *, may_moderate: bool = False
    ) -> CampaignFigures:
        """The campaign's figures; ``requester`` None is the public page (launched only)."""
        campaign = await self.campaigns.get(ref)
        if requester is not None and not (
            may_moderate or campaign.organiser.same_person(requester)
        ):
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        return await self.of_campaign(campaign)

    async def public_figures(self, ref: str) -> CampaignFigures | None:
        """The figures the public page shows: a launched campaign's only, else None."""
        wanted = normalise_ref(ref)
        if not PUBLIC_REF_RE.fullmatch(wanted):
            return None
        campaign = await self.repo.find_campaign(wanted)
        if campaign is None or campaign.status is not CampaignStatus.LAUNCHED:
            return None
        return await self.of_campaign(campaign)

    async def of_campaign(self, campaign: Campaign) -> CampaignFigures:
        assert campaign.id is not None
        pledges = await self.repo.pledges_of_campaign(campaign.id)
        accounts = await self.repo.get_accounts({p.account_id for p in pledges})
        rows = tuple(
            PledgeFigure(
                at=p.created_at,
                network=str(p.network),
                source=source_of(p),
                recruited=p.recruited_by is not None,
                status=p.status,
                reach=accounts[p.account_id].followers if p.account_id in accounts else 0,
                person=p.supporter.key,
                chat=p.source_chat or "",
                chat_title=p.source_chat_title or "",
            )
            for p in pledges
        )
        recruiters = await self.repo.recruiters(campaign.id)
        return CampaignFigures(
            campaign, rows, tuple(r.recruited for r in recruiters[:RECRUITERS_SHOWN])
        )


async def chart_png(figures: CampaignFigures, language: str) -> bytes:
    """The supporters-over-time chart, drawn off the event loop."""
    title = f"{figures.campaign.title} ({figures.campaign.ref})"
    points = figures.supporters_over_time()
    return await asyncio.to_thread(render_supporters_chart, points, title, language)
