"""An organiser's change to a campaign before its launch, and the rules it follows.

Two moments allow one. After a moderator requested changes (CHANGES_REQUESTED) every field
may change; the organiser then resubmits. Once approved (LIVE, before the launch) the
launch moment and the goal may change freely within the usual rules, but a new title or
message, or a launch moved nearer than ``REVIEW_WITHIN`` from now, sends the campaign back
to moderation (PENDING_REVIEW: the pledges stay, the cards lose their button).

The goal may be set to any value the dialog accepts (0 for no minimum up to ``GOAL_MAX``),
below the current number of supporters too: a lower goal only makes the launch likelier,
and every supporter is told of any change and may withdraw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.campaign import (
    GOAL_MAX,
    Campaign,
    CampaignStatus,
    transition,
    validate_title,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.launch_time import MAX_AHEAD
from bot.domain.text import t

REVIEW_WITHIN = timedelta(hours=24)  # a launch moved nearer than this is reviewed again
EDITABLE = frozenset({CampaignStatus.CHANGES_REQUESTED, CampaignStatus.LIVE})
FIELDS = ("title", "message", "goal", "launch")


@dataclass(frozen=True)
class CampaignEdit:
    """The fields to change (None: unchanged)."""

    title: str | None = None
    message: str | None = None
    goal: int | None = None
    launch_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    """One changed field, its old and new values as stored."""

    field: str
    old: object
    new: object


@dataclass(frozen=True)
class EditOutcome:
    campaign: Campaign
    changes: tuple[Change, ...]
    back_to_review: bool  # a live campaign went back to moderation


def apply_edit(
    campaign: Campaign,
    edit: CampaignEdit,
    *,
    at: datetime,
    min_lead: timedelta,
    review_within: timedelta = REVIEW_WITHIN,
) -> EditOutcome:
    """``campaign`` with ``edit`` applied (the message is checked by the caller, which
    knows the networks' rules). Raises for a campaign not open to edits, a value outside
    the rules, or an edit that changes nothing."""
    live = campaign.status is CampaignStatus.LIVE
    if campaign.status not in EDITABLE or (live and campaign.launch_at <= at):
        raise DomainError(
            "edit.not_editable", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
        )
    values: dict[str, object] = {}
    if edit.title is not None:
        values["title"] = validate_title(edit.title)
    if edit.message is not None:
        if not edit.message.strip():
            raise InvalidInput("edit.empty_message")
        values["message"] = edit.message.strip()
    if edit.goal is not None:
        if not 0 <= edit.goal <= GOAL_MAX:
            raise InvalidInput("goal.too_big" if edit.goal > 0 else "goal.negative", max=GOAL_MAX)
        values["goal"] = edit.goal
    if edit.launch_at is not None:
        if edit.launch_at.utcoffset() is None:
            raise ValueError("launch_at must be aware")
        if edit.launch_at <= at:
            raise InvalidInput("launch.past")
        if edit.launch_at - at < min_lead:
            raise InvalidInput("launch.too_soon", minutes=int(min_lead.total_seconds() // 60))
        if edit.launch_at - at > MAX_AHEAD:
            raise InvalidInput("launch.too_far")
        values["launch_at"] = edit.launch_at
    changes = tuple(
        Change(name, getattr(campaign, name), value)
        for name, value in values.items()
        if getattr(campaign, name) != value
    )
    if not changes:
        raise InvalidInput("edit.no_change", ref=campaign.ref)
    edited = replace(campaign, **{c.field: c.new for c in changes})
    changed = {c.field for c in changes}
    back = live and bool(
        changed & {"title", "message"}
        or ("launch_at" in changed and edited.launch_at - at < review_within)
    )
    if back:
        edited = transition(edited, CampaignStatus.PENDING_REVIEW, at=at, by=campaign.organiser)
    return EditOutcome(edited, changes, back)


def resubmit(campaign: Campaign, *, at: datetime, min_lead: timedelta) -> Campaign:
    """The organiser sends a campaign whose changes were requested back to moderation;
    its launch must still be far enough ahead for a review."""
    if campaign.status is not CampaignStatus.CHANGES_REQUESTED:
        raise DomainError(
            "edit.not_awaiting_changes",
            ref=campaign.ref,
            status=t(f"status.{campaign.status.value}"),
        )
    if campaign.launch_at - at < min_lead:
        raise InvalidInput("edit.launch_too_soon_to_resubmit", ref=campaign.ref)
    return transition(campaign, CampaignStatus.PENDING_REVIEW, at=at, by=campaign.organiser)
