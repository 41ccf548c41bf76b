"""The messages that show a campaign: promotion cards, moderation cards, summaries.

Built once here so Telegram, Discord and the console show the same facts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text, t
from bot.domain.variants import variant_lines
from bot.progress import progress_bar
from bot.services.campaign_media import is_public

SUPPORT_ACTION = "support"
POST_NOW_ACTION = "postnow"  # postnow:<ref>: hand the presser their own one-tap links
COUNTDOWN_FROM = timedelta(hours=1)  # the card counts down the minutes in the last hour
APPROVE_ACTION = "approve"
REJECT_ACTION = "reject"
CHANGES_ACTION = "changes"  # changes:<campaign id>: the moderator asks the organiser to edit


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


def page_url(public_url: str, ref: str) -> str:
    """The address of a campaign's public page on the site at ``public_url``."""
    return f"{public_url.rstrip('/')}/c/{ref}"


def page_line(campaign: Campaign, public_url: str | None) -> Text | None:
    """The line announcing the public page, once the campaign is public (live and after)."""
    if not public_url or not is_public(campaign):
        return None
    return t("card.page", url=page_url(public_url, campaign.ref))


def with_page_line(
    message: OutgoingMessage, campaign: Campaign, public_url: str | None
) -> OutgoingMessage:
    """``message`` with the public page's line at the end, when the campaign has one."""
    line = page_line(campaign, public_url)
    if line is None:
        return message
    return OutgoingMessage((*message.parts, line), message.buttons)


def countdown_minutes(campaign: Campaign, now: datetime) -> int | None:
    """Whole minutes left (rounded up) in the last hour before the launch; else None."""
    left = campaign.launch_at - now
    if campaign.status is not CampaignStatus.LIVE or not timedelta(0) < left <= COUNTDOWN_FROM:
        return None
    return max(1, math.ceil(left.total_seconds() / 60))


def campaign_card(
    campaign: Campaign,
    stats: CampaignStats,
    public_url: str | None = None,
    *,
    now: datetime | None = None,
    post_now: bool = False,
) -> OutgoingMessage:
    """The card posted in groups: what, when, how far, the public page, a Support button.

    With ``now`` in the last hour before the launch it counts the minutes down; once the
    launch is under way it shows how many posts went out; with ``post_now`` (tap links
    are out and the report not written) its button hands each supporter their own link.
    """
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
        minutes = countdown_minutes(campaign, now) if now is not None else None
        if minutes is not None:
            parts.append(t("launchcard.countdown", minutes=minutes))
        buttons = ((Button(t("button.support"), action=f"{SUPPORT_ACTION}:{campaign.ref}"),),)
    else:
        launched = (CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED)
        if campaign.status in launched and stats.accounts:
            parts.append(t("launchcard.tally", posted=stats.posted, total=stats.accounts))
        parts.append(t(f"card.status_{campaign.status.value}"))
        if post_now and campaign.status in launched:
            parts.append(t("launchcard.post_now_hint"))
            label = t("launchcard.button_post_now")
            buttons = ((Button(label, action=f"{POST_NOW_ACTION}:{campaign.ref}"),),)
    return with_page_line(OutgoingMessage(tuple(parts), buttons), campaign, public_url)


MODERATION_STORY_MAX = 800


def moderation_card(campaign: Campaign, picture_url: str | None = None) -> OutgoingMessage:
    """The card moderators decide on; edited after the decision. ``picture_url`` lets
    them see the campaign's picture before deciding (the pages show it only once public)."""
    parts = [
        t("moderation.header", ref=campaign.ref, organiser=campaign.organiser.name or "?"),
        t("card.title", title=campaign.title, ref=campaign.ref),
        t("card.message", message=campaign.message),
        *_variants(campaign),
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
                Button(t("changes.button"), action=f"{CHANGES_ACTION}:{campaign.id}"),
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
    elif campaign.status is CampaignStatus.CHANGES_REQUESTED:
        parts.append(
            t(
                "changes.requested_by",
                who=decider,
                at=campaign.decided_at,
                note=campaign.reject_reason or "",
            )
        )
    elif campaign.decided_at is not None and campaign.decided_by is not None:
        parts.append(t("moderation.approved_by", who=decider, at=campaign.decided_at))
    else:
        parts.append(t(f"card.status_{campaign.status.value}"))
    return OutgoingMessage(tuple(parts))


def _variants(campaign: Campaign) -> list[Text]:
    """The other wordings, for the moderators to read too."""
    if not campaign.variants:
        return []
    return [t("variants.heading"), *variant_lines(campaign.variants)]


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
