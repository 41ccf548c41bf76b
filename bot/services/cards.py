"""The messages that show a campaign: promotion cards, moderation cards, summaries.

Built once here so Telegram, Discord and the console show the same facts.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text, t
from bot.progress import progress_bar

SUPPORT_ACTION = "support"
APPROVE_ACTION = "approve"
REJECT_ACTION = "reject"


def goal_text(campaign: Campaign) -> Text:
    return t("goal.none") if campaign.no_minimum else t("goal.count", goal=campaign.goal)


def figures(campaign: Campaign, stats: CampaignStats) -> Text:
    if campaign.no_minimum:
        return t("card.figures_no_minimum", supporters=stats.supporters, reach=stats.reach)
    return t(
        "card.figures",
        bar=progress_bar(stats.supporters, campaign.goal),
        supporters=stats.supporters,
        goal=campaign.goal,
        reach=stats.reach,
    )


def time_left(campaign: Campaign, now: datetime) -> Text:
    seconds = int((campaign.launch_at - now).total_seconds())
    if seconds <= 0:
        return t("time.passed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("time.days_hours", days=days, hours=hours)
    if hours:
        return t("time.hours_minutes", hours=hours, minutes=minutes)
    return t("time.minutes", minutes=max(1, minutes))


def campaign_card(campaign: Campaign, stats: CampaignStats) -> OutgoingMessage:
    """The card posted in groups: what, when, how far, and a Support button."""
    parts = [
        t("card.title", title=campaign.title, ref=campaign.ref),
        t("card.message", message=campaign.message),
        t("card.launch", launch_at=campaign.launch_at),
        figures(campaign, stats),
    ]
    if stats.accounts > stats.supporters:  # someone pledged several accounts
        parts.append(t("card.accounts", accounts=stats.accounts))
    buttons: tuple[tuple[Button, ...], ...] = ()
    if campaign.status is CampaignStatus.LIVE:
        buttons = ((Button(t("button.support"), action=f"{SUPPORT_ACTION}:{campaign.ref}"),),)
    else:
        parts.append(t(f"card.status_{campaign.status.value}"))
    return OutgoingMessage(tuple(parts), buttons)


MODERATION_STORY_MAX = 800


def moderation_card(campaign: Campaign, picture_url: str | None = None) -> OutgoingMessage:
    """The card moderators decide on; edited after the decision. ``picture_url`` lets
    them see the campaign's picture before deciding (the pages show it only once public)."""
    parts = [
        t("moderation.header", ref=campaign.ref, organiser=campaign.organiser.name or "?"),
        t("card.title", title=campaign.title, ref=campaign.ref),
        t("card.message", message=campaign.message),
        t(
            "moderation.details",
            goal=goal_text(campaign),
            launch_at=campaign.launch_at,
            networks=", ".join(campaign.networks),
        ),
    ]
    if campaign.story:  # shortened: the card must fit the smallest chat message
        story = campaign.story
        if len(story) > MODERATION_STORY_MAX:
            story = story[: MODERATION_STORY_MAX - 1].rstrip() + "…"
        parts.append(t("moderation.story", story=story))
    if campaign.picture and picture_url:
        parts.append(t("moderation.picture_link", url=picture_url))
    elif campaign.picture:
        parts.append(t("moderation.picture_attached"))
    if campaign.status is CampaignStatus.PENDING_REVIEW:
        buttons = (
            (
                Button(t("button.approve"), action=f"{APPROVE_ACTION}:{campaign.id}"),
                Button(t("button.reject"), action=f"{REJECT_ACTION}:{campaign.id}"),
            ),
        )
        return OutgoingMessage(tuple(parts), buttons)
    decider = campaign.decided_by.name if campaign.decided_by else "?"
    if campaign.status is CampaignStatus.REJECTED:
        parts.append(
            t(
                "moderation.rejected_by",
                who=decider,
                at=campaign.decided_at,
                reason=campaign.reject_reason or "",
            )
        )
    elif campaign.decided_at is not None and campaign.decided_by is not None:
        parts.append(t("moderation.approved_by", who=decider, at=campaign.decided_at))
    else:
        parts.append(t(f"card.status_{campaign.status.value}"))
    return OutgoingMessage(tuple(parts))


def summary_line(campaign: Campaign, stats: CampaignStats, now: datetime) -> Text:
    """One line of /mycampaigns."""
    return t(
        "summary.line",
        ref=campaign.ref,
        title=campaign.title,
        status=t(f"status.{campaign.status.value}"),
        supporters=stats.supporters,
        goal=goal_text(campaign),
        reach=stats.reach,
        left=time_left(campaign, now),
    )
