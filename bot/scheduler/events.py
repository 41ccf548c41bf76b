"""The timed events of a campaign and when each one falls.

Moments are derived from the campaign's launch moment and the settings every time
they are needed: the database holds the campaign, so nothing here needs storing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.campaign import AWAITING_REVIEW, Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.trend import WINDOW
from bot.settings import Settings


class Event(StrEnum):
    REMINDER_24H = "reminder_24h"
    REMINDER_1H = "reminder_1h"
    PREPARE = "prepare"
    LAUNCH = "launch"
    TAP_REMINDER = "tap_reminder"
    REPORT = "report"
    TAG_COUNT = "tag_count"  # "did we trend?": the hashtag counted an hour after the launch
    EXPIRE = "expire"  # still waiting for moderation at the launch moment
    # the cards count the last hour down, edited at these marks (minutes before launch)
    COUNTDOWN_60 = "countdown_60"
    COUNTDOWN_30 = "countdown_30"
    COUNTDOWN_15 = "countdown_15"
    COUNTDOWN_10 = "countdown_10"
    COUNTDOWN_5 = "countdown_5"
    COUNTDOWN_1 = "countdown_1"


# Each countdown event and its minutes before the launch, from the first to the last: few
# enough edits that no chat platform's edit limit is near, and the last minutes closer.
COUNTDOWNS: dict[Event, int] = {
    Event.COUNTDOWN_60: 60,
    Event.COUNTDOWN_30: 30,
    Event.COUNTDOWN_15: 15,
    Event.COUNTDOWN_10: 10,
    Event.COUNTDOWN_5: 5,
    Event.COUNTDOWN_1: 1,
}


# The events claimed in the database before they run (``Repository.claim_event``); the
# launch is guarded by the campaign's status, the report claims its own event.
CLAIMED: dict[Event, EventKind] = {
    Event.REMINDER_24H: EventKind.REMINDER_24H,
    Event.REMINDER_1H: EventKind.REMINDER_1H,
    Event.PREPARE: EventKind.PREPARE,
    Event.TAP_REMINDER: EventKind.TAP_REMINDER,
    Event.TAG_COUNT: EventKind.TAG_COUNT,
}
REMINDERS = frozenset({Event.REMINDER_24H, Event.REMINDER_1H})
BEFORE_LAUNCH = frozenset(
    {Event.REMINDER_24H, Event.REMINDER_1H, Event.PREPARE, Event.LAUNCH, *COUNTDOWNS}
)
AFTER_LAUNCH = frozenset({Event.TAP_REMINDER, Event.REPORT, Event.TAG_COUNT})

# A reminder that fires this late (timer jitter, a busy loop) still goes; later, it is
# skipped rather than sent late.
REMINDER_TOLERANCE = timedelta(minutes=2)
# A hashtag count found this late (the process was down) is skipped: old news.
TAG_COUNT_TOLERANCE = timedelta(hours=6)

# The statuses in which a campaign still has events to run.
SCHEDULED_STATUSES = frozenset(
    {
        CampaignStatus.PENDING_REVIEW,
        CampaignStatus.CHANGES_REQUESTED,
        CampaignStatus.LIVE,
        CampaignStatus.LAUNCHING,
        CampaignStatus.LAUNCHED,
    }
)
DROPPED_STATUSES = frozenset(
    {
        CampaignStatus.CANCELLED,
        CampaignStatus.REJECTED,
        CampaignStatus.FAILED,
        CampaignStatus.EXPIRED,
    }
)


def moments(campaign: Campaign, settings: Settings) -> dict[Event, datetime]:
    """Every event of ``campaign`` with its moment, in the order they happen."""
    launch = campaign.launch_at
    table = {
        Event.REMINDER_24H: launch - timedelta(hours=24),
        Event.REMINDER_1H: launch - timedelta(hours=1),
        Event.PREPARE: launch - timedelta(minutes=settings.prepare_minutes_before),
        Event.LAUNCH: launch,
        Event.TAP_REMINDER: launch + timedelta(minutes=settings.tap_reminder_minutes),
        Event.REPORT: launch + timedelta(minutes=settings.tap_readback_minutes),
        Event.TAG_COUNT: launch + WINDOW,
        Event.EXPIRE: launch,
        **{event: launch - timedelta(minutes=minutes) for event, minutes in COUNTDOWNS.items()},
    }
    return dict(sorted(table.items(), key=lambda item: item[1]))


def events_for(status: CampaignStatus) -> frozenset[Event]:
    """The events worth arming for a campaign in ``status``."""
    if status in AWAITING_REVIEW:
        return frozenset({Event.EXPIRE})
    if status is CampaignStatus.LIVE:
        return BEFORE_LAUNCH | AFTER_LAUNCH
    if status in (CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED):
        return AFTER_LAUNCH
    return frozenset()


def job_id(campaign_id: int, event: Event) -> str:
    return f"campaign:{campaign_id}:{event.value}"
