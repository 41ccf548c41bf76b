"""The figures of a finished blast and the messages that tell people about them.

Figures come from the pledge rows (never from counters kept in memory), so a report
written after a crash and restart is as right as one written in a single run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bot.blast.prepare import mode_of
from bot.domain.campaign import Campaign
from bot.domain.cards import CampaignStats
from bot.domain.networks import DeliveryMode, Network
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.text import Text, t

NOT_POSTED = "not_posted"  # failure reason of a tap pledge never confirmed
LINKS_SHOWN = 3


@dataclass(frozen=True)
class Figures:
    posted: int = 0  # posted by Chorus (auto)
    confirmed: int = 0  # tapped and confirmed by read-back
    not_posted: int = 0  # tap links never used
    opened: int = 0  # tap pledges whose link was opened at least once
    unreachable: int = 0  # tap links never used, whose supporter could not be written to
    post_now: int = 0  # tap pledges whose link was handed out by a card's Post now
    failed: dict[str, int] = field(default_factory=dict)  # by reason
    reach: int = 0
    links: tuple[str, ...] = ()
    late_minutes: int = 0
    tap: bool = False
    by_variant: dict[int, int] = field(default_factory=dict)  # posts per wording index
    own_words: int = 0  # posts in the supporter's own words
    by_network: dict[str, int] = field(default_factory=dict)  # posts (auto or tapped)

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


def figures_of(
    campaign: Campaign,
    pledges: Iterable[Pledge],
    stats: CampaignStats,
    modes: Mapping[Network, DeliveryMode],
    unreachable: Collection[int] = frozenset(),
) -> Figures:
    """``unreachable``: the tap pledges whose supporter could not be written to privately;
    those never posted count apart from the supporters reached who did not post."""
    posted = confirmed = not_posted = unreached = 0
    failed: Counter[str] = Counter()
    by_network: Counter[str] = Counter()
    links: list[str] = []
    by_variant: Counter[int] = Counter()
    own_words = 0
    tap = campaign.tap_offered
    for pledge in pledges:
        if pledge.status is PledgeStatus.WITHDRAWN:
            continue
        mode = mode_of(pledge, modes)
        if pledge.status is PledgeStatus.POSTED:
            by_network[str(pledge.network)] += 1
            if mode is DeliveryMode.TAP:
                confirmed += 1
            else:
                posted += 1
            if pledge.message:
                own_words += 1
            else:
                by_variant[_wording_index(campaign, pledge.variant)] += 1
            if pledge.remote_post_url and len(links) < LINKS_SHOWN:
                links.append(pledge.remote_post_url)
        elif pledge.status is PledgeStatus.FAILED:
            if pledge.failure_reason == NOT_POSTED:
                if pledge.id in unreachable:
                    unreached += 1
                else:
                    not_posted += 1
            else:
                failed[pledge.failure_reason or "unknown"] += 1
        elif pledge.status is PledgeStatus.PLEDGED and mode is DeliveryMode.TAP:
            if pledge.id in unreachable:
                unreached += 1
            else:
                not_posted += 1
        if mode is DeliveryMode.TAP:
            tap = True
    return Figures(
        posted=posted,
        confirmed=confirmed,
        not_posted=not_posted,
        unreachable=unreached,
        failed=dict(sorted(failed.items())),
        reach=stats.posted_reach,
        links=tuple(links),
        late_minutes=campaign.late_minutes,
        tap=tap,
        by_variant=dict(sorted(by_variant.items())),
        own_words=own_words,
        by_network=dict(by_network.most_common()),
    )


def _wording_index(campaign: Campaign, variant: int | None) -> int:
    """The wording a pledge posted: its own, or the main message (0) for none or one
    that is no longer there."""
    if variant is None or not 0 <= variant < len(campaign.wordings):
        return 0
    return variant


def variant_report(campaign: Campaign, figures: Figures) -> list[Text]:
    """Which wording travelled best: posts per wording (every one, used or not), and
    those in the supporters' own words. Nothing for a campaign with one wording."""
    if not campaign.variants:
        return []
    parts: list[Text] = [t("variants.report_heading")]
    parts.extend(
        t("variants.report_line", number=index + 1, count=figures.by_variant.get(index, 0))
        for index in range(len(campaign.wordings))
    )
    if figures.own_words:
        parts.append(t("variants.report_own", count=figures.own_words))
    return parts


def report_message(campaign: Campaign, figures: Figures) -> OutgoingMessage:
    parts: list[Text] = [t("blast.report_title", title=campaign.title, ref=campaign.ref)]
    if figures.late_minutes:
        parts.append(t("blast.report_late", minutes=figures.late_minutes))
    parts.append(t("blast.report_posted", count=figures.posted))
    if figures.tap:
        parts.append(
            t(
                "blast.report_tapped",
                confirmed=figures.confirmed,
                not_posted=figures.not_posted,
                opened=figures.opened,
            )
        )
        if figures.unreachable or figures.post_now:
            parts.append(
                t(
                    "launchcard.report_unreachable",
                    unreachable=figures.unreachable,
                    post_now=figures.post_now,
                )
            )
    if figures.failed:
        parts.append(t("blast.report_failed", count=figures.failed_total))
        parts.extend(
            t("blast.report_failed_reason", reason=t(f"blast.reason_{reason}"), count=count)
            for reason, count in figures.failed.items()
        )
    parts.extend(variant_report(campaign, figures))
    if len(figures.by_network) > 1:  # with one network the totals above say it all
        parts.extend(
            t("blast.report_network", network=network, count=count)
            for network, count in figures.by_network.items()
        )
    parts.append(t("blast.report_reach", reach=figures.reach))
    if figures.links:
        parts.append(t("blast.report_links", links="\n".join(figures.links)))
    return OutgoingMessage(tuple(parts))
