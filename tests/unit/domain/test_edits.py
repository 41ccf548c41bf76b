"""The rules of an organiser's edit: what may change when, and what goes back to review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.campaign import CampaignStatus as S
from bot.domain.campaign import transition
from bot.domain.edits import REVIEW_WITHIN, CampaignEdit, apply_edit, resubmit
from bot.domain.errors import DomainError, InvalidInput
from tests.unit.domain.test_campaign import MODERATOR, NOW, ORGANISER, campaign

LEAD = timedelta(minutes=30)


def test_a_change_request_needs_a_note_and_keeps_the_reference() -> None:
    with pytest.raises(InvalidInput) as exc:
        transition(campaign(S.PENDING_REVIEW), S.CHANGES_REQUESTED, at=NOW, by=MODERATOR)
    assert exc.value.key == "changes.note_required"
    asked = transition(
        campaign(S.PENDING_REVIEW), S.CHANGES_REQUESTED, at=NOW, by=MODERATOR, reason=" Shorter "
    )
    assert (asked.ref, asked.reject_reason, asked.decided_by) == ("K7QX2M", "Shorter", MODERATOR)


def test_while_changes_are_requested_every_field_changes_without_review() -> None:
    asked = campaign(S.CHANGES_REQUESTED, reject_reason="Add a link")
    later = NOW + timedelta(days=1)
    outcome = apply_edit(
        asked, CampaignEdit(title="Save  bees", launch_at=later), at=NOW, min_lead=LEAD
    )
    assert outcome.campaign.title == "Save bees"
    assert outcome.campaign.launch_at == later
    assert outcome.campaign.status is S.CHANGES_REQUESTED
    assert not outcome.back_to_review
    assert [c.field for c in outcome.changes] == ["title", "launch_at"]


def test_resubmitting_clears_the_note_and_goes_to_review() -> None:
    asked = campaign(S.CHANGES_REQUESTED, reject_reason="Add a link", decided_by=MODERATOR)
    again = resubmit(asked, at=NOW, min_lead=LEAD)
    assert again.status is S.PENDING_REVIEW
    assert (again.reject_reason, again.decided_by) == (None, None)
    with pytest.raises(DomainError) as exc:
        resubmit(campaign(S.LIVE), at=NOW, min_lead=LEAD)
    assert exc.value.key == "edit.not_awaiting_changes"
    with pytest.raises(InvalidInput):
        resubmit(asked, at=asked.launch_at - LEAD / 2, min_lead=LEAD)


def test_a_live_goal_or_far_launch_change_stays_live() -> None:
    live = campaign(S.LIVE)
    far = NOW + REVIEW_WITHIN + timedelta(hours=1)
    outcome = apply_edit(live, CampaignEdit(goal=0, launch_at=far), at=NOW, min_lead=LEAD)
    assert outcome.campaign.status is S.LIVE and not outcome.back_to_review
    assert (outcome.campaign.goal, outcome.campaign.launch_at) == (0, far)


@pytest.mark.parametrize(
    "edit",
    [
        CampaignEdit(title="A new title"),
        CampaignEdit(message="Another message #bees"),
        CampaignEdit(launch_at=NOW + REVIEW_WITHIN - timedelta(minutes=1)),
    ],
)
def test_a_live_wording_change_or_near_launch_goes_back_to_review(edit: CampaignEdit) -> None:
    outcome = apply_edit(campaign(S.LIVE), edit, at=NOW, min_lead=LEAD)
    assert outcome.back_to_review
    assert outcome.campaign.status is S.PENDING_REVIEW
    assert outcome.campaign.decided_by is None


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (CampaignEdit(goal=-1), "goal.negative"),
        (CampaignEdit(goal=2_000_000), "goal.too_big"),
        (CampaignEdit(launch_at=NOW - timedelta(minutes=1)), "launch.past"),
        (CampaignEdit(launch_at=NOW + timedelta(minutes=5)), "launch.too_soon"),
        (CampaignEdit(launch_at=NOW + timedelta(days=400)), "launch.too_far"),
        (CampaignEdit(title="ab"), "title.too_short"),
        (CampaignEdit(message="   "), "edit.empty_message"),
        (CampaignEdit(goal=100), "edit.no_change"),
        (CampaignEdit(), "edit.no_change"),
    ],
)
def test_bad_edits_are_refused(edit: CampaignEdit, key: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        apply_edit(campaign(S.LIVE), edit, at=NOW, min_lead=LEAD)
    assert exc.value.key == key


@pytest.mark.parametrize("status", [S.PENDING_REVIEW, S.LAUNCHING, S.LAUNCHED, S.CANCELLED])
def test_only_live_or_changes_requested_campaigns_are_edited(status: S) -> None:
    with pytest.raises(DomainError) as exc:
        apply_edit(campaign(status), CampaignEdit(goal=5), at=NOW, min_lead=LEAD)
    assert exc.value.key == "edit.not_editable"


def test_a_live_campaign_past_its_launch_is_not_edited() -> None:
    live = campaign(S.LIVE)
    with pytest.raises(DomainError):
        apply_edit(live, CampaignEdit(goal=5), at=live.launch_at, min_lead=LEAD)


def test_withdrawal_is_open_while_an_edited_campaign_waits_for_review() -> None:
    assert campaign(S.PENDING_REVIEW).open_for_withdrawal(NOW)
    assert campaign(S.LIVE).open_for_withdrawal(NOW)
    assert not campaign(S.LIVE).open_for_pledges(NOW + timedelta(days=3))
    assert not campaign(S.LAUNCHING).open_for_withdrawal(NOW)
    assert ORGANISER.key
