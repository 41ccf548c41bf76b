"""The once-only events of a campaign, claimed in the database before they happen.

A claim is the guard that makes a milestone announcement, a reminder or the report go out
once, however many runs (or restarts) reach it. Each claim has a kind and, for the kinds
that happen once per something, a subject: the milestone's percent, the pledge whose tap
link was opened.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    MILESTONE = "milestone"  # subject: the percent of the goal crossed
    REMINDER_24H = "reminder_24h"
    REMINDER_1H = "reminder_1h"
    PREPARE = "prepare"
    TAP_REMINDER = "tap_reminder"
    FAILURE_NOTICES = "failure_notices"  # every failure notice was claimed (claimed last)
    FAILURE_NOTICE = "failure_notice"  # subject: the pledge whose failure its supporter was told
    REPORT = "report"  # the report's read-back is over, the unconfirmed taps closed
    REPORT_ORGANISER = "report_organiser"  # the organiser's report was claimed, then sent
    REPORT_CHAT = "report_chat"  # subject: the promotion card standing for its chat
    REPORT_DONE = "report_done"  # every step of the report is done (claimed last)
    TAP_OPENED = "tap_opened"  # subject: the pledge whose tap link was opened
    PERSONAL_RESULT = "personal_result"  # subject: the first pledge of the person told
    TAP_UNREACHABLE = "tap_unreachable"  # subject: the pledge whose offer could not be sent
    POST_NOW = "post_now"  # subject: the pledge whose link was given through a card
    COUNTDOWN = "countdown"  # subject: the minutes before launch the cards were edited at
    TAG_COUNT = "tag_count"  # the hashtag was counted an hour after the launch
