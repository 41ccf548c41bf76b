""" "Did we trend?": one hour after the launch, count the public posts with the campaign's
hashtag on its supporters' servers and tell the organiser.

For each registered network that can count (``TagCounter``), the servers of the pledged
accounts are asked, most supporters first and at most ``max_servers`` of them, a few at a
time. Posts are told apart by address: those the pledges posted (or confirmed) are the
supporters', the rest are everyone else's; the same post seen on two servers counts once.
The scheduler runs this once per campaign (the event is claimed in the database first).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from bot.domain.campaign import Campaign
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.text import Text, t
from bot.domain.trend import WINDOW, NetworkTrend, TagSample, campaign_hashtag
from bot.notifier import Notifier
from bot.ports import Repository, TagCounter
from bot.registry import NetworkRegistry

log = logging.getLogger(__name__)


class TrendCount:
    """Counts a launched campaign's hashtag; built once by the root, run by the scheduler."""

    def __init__(
        self,
        repo: Repository,
        registry: NetworkRegistry,
        notifier: Notifier,
        *,
        max_servers: int,
        concurrency: int,
    ) -> None:
        self.repo = repo
        self.registry = registry
        self.notifier = notifier
        self.max_servers = max_servers
        self.concurrency = concurrency

    async def count(self, campaign: Campaign) -> list[NetworkTrend]:
        """The count on every network that can count and has pledged accounts."""
        assert campaign.id is not None
        hashtag = campaign_hashtag(campaign.message)
        counters = self.registry.tag_counters()
        if hashtag is None or not counters:
            return []
        pledges = await self.repo.pledges_of_campaign(
            campaign.id, [PledgeStatus.PLEDGED, PledgeStatus.POSTED, PledgeStatus.FAILED]
        )
        accounts = await self.repo.get_accounts({p.account_id for p in pledges})
        ours = {
            p.remote_post_url
            for p in pledges
            if p.status is PledgeStatus.POSTED and p.remote_post_url
        }
        since, until = campaign.launch_at, campaign.launch_at + WINDOW
        limit = asyncio.Semaphore(self.concurrency)
        found: list[NetworkTrend] = []
        for network, counter in counters.items():
            servers = Counter(
                accounts[p.account_id].instance
                for p in pledges
                if p.network == network and p.account_id in accounts
            )
            chosen = [server for server, _ in servers.most_common(self.max_servers)]
            if not chosen:
                continue

            async def read(server: str, counter: TagCounter = counter) -> TagSample | None:
                async with limit:
                    return await counter.tagged_posts(server, hashtag, since, until)

            samples = await asyncio.gather(*(read(server) for server in chosen))
            answered = [s for s in samples if s is not None]
            urls = frozenset().union(*(s.urls for s in answered))
            found.append(
                NetworkTrend(
                    network=str(network),
                    servers=len(answered),
                    unanswered=len(samples) - len(answered),
                    pledged=len(urls & ours),
                    others=len(urls - ours),
                    complete=all(s.complete for s in answered),
                )
            )
        return found

    async def run(self, campaign: Campaign) -> None:
        """Count and tell the organiser (nothing is sent when nothing could be counted)."""
        trends = await self.count(campaign)
        hashtag = campaign_hashtag(campaign.message)
        if not trends or hashtag is None:
            log.info("campaign %s: no hashtag count (no hashtag or no server)", campaign.ref)
            return
        for trend in trends:
            log.info(
                "campaign %s: #%s on %s: %s pledged, %s others over %s servers",
                campaign.ref,
                hashtag,
                trend.network,
                trend.pledged,
                trend.others,
                trend.servers,
            )
        await self.notifier.send_to_user(campaign.organiser, trend_message(campaign, trends))


def trend_message(campaign: Campaign, trends: list[NetworkTrend]) -> OutgoingMessage:
    hashtag = campaign_hashtag(campaign.message) or ""
    parts: list[Text] = [t("trend.title", title=campaign.title, ref=campaign.ref, tag=hashtag)]
    for trend in trends:
        parts.append(
            t(
                "trend.network",
                network=trend.network,
                total=trend.total,
                pledged=trend.pledged,
                others=trend.others,
                servers=trend.servers,
            )
        )
        if trend.unanswered:
            parts.append(t("trend.unanswered", count=trend.unanswered))
        if not trend.complete:
            parts.append(t("trend.partial"))
    return OutgoingMessage(tuple(parts))
