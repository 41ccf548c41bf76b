"""The campaign lifecycle, and validation of what an organiser types."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from bot.domain.campaign import (
    ALLOWED_TRANSITIONS,
    GOAL_MAX,
    REF_LENGTH,
    TITLE_MAX,
    Campaign,
    CampaignStatus,
    LaunchDecision,
    decide_launch,
    new_ref,
    normalise_ref,
    transition,
    validate_goal,
    validate_title,
)
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.refs import UserRef
from bot.domain.text import Text

S = CampaignStatus
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
ORGANISER = UserRef("test", "1", "Olga")
MODERATOR = UserRef("test", "9", "Mo")

ALLOWED = {
    (S.DRAFT, S.PENDING_REVIEW),
    (S.DRAFT, S.CANCELLED),
    (S.PENDING_REVIEW, S.LIVE),
    (S.PENDING_REVIEW, S.REJECTED),
    (S.PENDING_REVIEW, S.CANCELLED),
    (S.PENDING_REVIEW, S.EXPIRED),
    (S.PENDING_REVIEW, S.CHANGES_REQUESTED),
    (S.CHANGES_REQUESTED, S.PENDING_REVIEW),
    (S.CHANGES_REQUESTED, S.CANCELLED),
    (S.CHANGES_REQUESTED, S.EXPIRED),
    (S.LIVE, S.PENDING_REVIEW),
    (S.LIVE, S.LAUNCHING),
    (S.LIVE, S.CANCELLED),
    (S.LIVE, S.FAILED),
    (S.LAUNCHING, S.LAUNCHED),
    (S.LAUNCHING, S.FAILED),
}
EVERY_PAIR = list(itertools.product(S, S))


def campaign(status: CampaignStatus = S.DRAFT, **changes: object) -> Campaign:
    base = Campaign(
        ref="K7QX2M",
        title="Save the bees",
        message="Save the bees #bees",
        goal=100,
        launch_at=NOW + timedelta(days=2),
        networks=(MASTODON,),
        organiser=ORGANISER,
        created_at=NOW,
        status=status,
    )
    return Campaign(**{**base.__dict__, **changes})


def test_the_table_is_exactly_the_lifecycle() -> None:
    table = {(old, new) for old, targets in ALLOWED_TRANSITIONS.items() for new in targets}
    assert table == ALLOWED
    assert set(ALLOWED_TRANSITIONS) == set(S)


@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_allowed_transition(old: CampaignStatus, new: CampaignStatus) -> None:
    later = NOW + timedelta(minutes=5)
    decided = campaign(old, launch_decision=LaunchDecision.MET)
    moved = transition(decided, new, at=later, by=MODERATOR, reason="off topic")
    assert moved.status is new
    assert moved.status_changed_at == later
    assert moved.ref == "K7QX2M"
    assert campaign(old).status is old  # the original is untouched (frozen)


@pytest.mark.parametrize(("old", "new"), [p for p in EVERY_PAIR if p not in ALLOWED])
def test_forbidden_transition(old: CampaignStatus, new: CampaignStatus) -> None:
    with pytest.raises(InvalidTransition) as exc:
        transition(campaign(old), new, at=NOW, by=MODERATOR, reason="off topic")
    assert exc.value.key == f"campaign.cannot_{new.value}"
    assert exc.value.text.params == {"ref": "K7QX2M", "status": Text(f"status.{old.value}")}


def test_approval_records_who_and_when() -> None:
    live = transition(campaign(S.PENDING_REVIEW), S.LIVE, at=NOW, by=MODERATOR)
    assert (live.decided_by, live.decided_at, live.reject_reason) == (MODERATOR, NOW, None)


def test_launching_does_not_overwrite_the_decision() -> None:
    live = transition(campaign(S.PENDING_REVIEW), S.LIVE, at=NOW, by=MODERATOR)
    launching = transition(live, S.LAUNCHING, at=NOW + timedelta(days=1))
    assert (launching.decided_by, launching.decided_at) == (MODERATOR, NOW)


def test_expiry_records_no_decision() -> None:
    expired = transition(campaign(S.PENDING_REVIEW), S.EXPIRED, at=NOW + timedelta(days=2))
    assert (expired.decided_by, expired.decided_at) == (None, None)
    assert expired.status_changed_at == NOW + timedelta(days=2)


@pytest.mark.parametrize("decision", [None, LaunchDecision.MISSED])
def test_only_a_met_goal_may_be_marked_launched(decision: LaunchDecision | None) -> None:
    with pytest.raises(InvalidTransition) as exc:
        transition(campaign(S.LAUNCHING, launch_decision=decision), S.LAUNCHED, at=NOW)
    assert exc.value.key == "campaign.cannot_launched"
    failed = transition(campaign(S.LAUNCHING, launch_decision=decision), S.FAILED, at=NOW)
    assert failed.status is S.FAILED


@pytest.mark.parametrize(
    ("goal", "supporters", "decision"),
    [
        (3, 2, LaunchDecision.MISSED),
        (3, 3, LaunchDecision.MET),
        (3, 4, LaunchDecision.MET),
        (0, 0, LaunchDecision.MET),
    ],
)
def test_the_launch_decision_is_recorded_with_the_move_to_launching(
    goal: int, supporters: int, decision: LaunchDecision
) -> None:
    later = NOW + timedelta(days=2)
    decided = decide_launch(campaign(S.LIVE, goal=goal), supporters, at=later)
    assert (decided.status, decided.status_changed_at) == (S.LAUNCHING, later)
    assert (decided.launch_decision, decided.launch_supporters) == (decision, supporters)
    assert not decided.awaits_launch_decision


def test_a_launching_campaign_without_a_decision_is_decided_in_place() -> None:
    undecided = campaign(S.LAUNCHING, goal=2, status_changed_at=NOW)
    assert undecided.awaits_launch_decision
    decided = decide_launch(undecided, 1, at=NOW + timedelta(minutes=3))
    assert (decided.status, decided.status_changed_at) == (S.LAUNCHING, NOW)
    assert (decided.launch_decision, decided.launch_supporters) == (LaunchDecision.MISSED, 1)


@pytest.mark.parametrize(
    "stored",
    [
        campaign(S.LAUNCHING, launch_decision=LaunchDecision.MISSED, launch_supporters=1),
        campaign(S.PENDING_REVIEW),
        campaign(S.CANCELLED),
        campaign(S.LAUNCHED, launch_decision=LaunchDecision.MET),
    ],
)
def test_the_launch_decision_is_taken_once_and_only_at_the_launch(stored: Campaign) -> None:
    with pytest.raises(InvalidTransition) as exc:
        decide_launch(stored, 100, at=NOW)
    assert exc.value.key == "campaign.cannot_launching"


@pytest.mark.parametrize("status", list(S))
def test_pledges_are_open_only_while_live_and_before_the_launch(status: CampaignStatus) -> None:
    stored = campaign(status)
    assert stored.open_for_pledges(NOW) is (status is S.LIVE)
    assert not stored.open_for_pledges(stored.launch_at)  # the launch moment closes them
    assert not stored.open_for_pledges(stored.launch_at + timedelta(seconds=1))


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_reject_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(InvalidInput) as exc:
        transition(campaign(S.PENDING_REVIEW), S.REJECTED, at=NOW, by=MODERATOR, reason=reason)
    assert exc.value.key == "reject.reason_required"


def test_reject_keeps_the_reason_trimmed_and_capped() -> None:
    rejected = transition(
        campaign(S.PENDING_REVIEW), S.REJECTED, at=NOW, by=MODERATOR, reason="  spam  "
    )
    assert (rejected.reject_reason, rejected.decided_by) == ("spam", MODERATOR)
    long = transition(
        campaign(S.PENDING_REVIEW), S.REJECTED, at=NOW, by=MODERATOR, reason="r" * 900
    )
    assert long.reject_reason == "r" * 500


@pytest.mark.parametrize(
    ("text", "goal"),
    [
        ("0", 0),
        ("none", 0),
        ("None", 0),
        (" no minimum ", 0),
        ("aucun", 0),
        ("1", 1),
        ("100", 100),
        ("1,000", 1000),
        ("1 000", 1000),
        ("1_000", 1000),
        (" 250 ", 250),
        (str(GOAL_MAX), GOAL_MAX),
    ],
)
def test_goal_parsing(text: str, goal: int) -> None:
    assert validate_goal(text) == goal


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("-3", "goal.negative", {}),
        ("abc", "goal.not_a_number", {"value": "abc"}),
        ("", "goal.not_a_number", {"value": ""}),
        ("2.5", "goal.not_a_number", {"value": "2.5"}),
        ("1e3", "goal.not_a_number", {"value": "1e3"}),
        (str(GOAL_MAX + 1), "goal.too_big", {"max": GOAL_MAX}),
        ("99999999999999999999", "goal.too_big", {"max": GOAL_MAX}),
        ("x" * 100, "goal.not_a_number", {"value": "x" * 40}),
    ],
)
def test_goal_refusals(text: str, key: str, params: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_goal(text)
    assert (exc.value.key, dict(exc.value.text.params)) == (key, params)


def test_goal_zero_means_no_minimum() -> None:
    assert campaign(goal=0).no_minimum
    assert campaign(goal=0).goal_met(0)
    assert not campaign(goal=3).goal_met(2)
    assert campaign(goal=3).goal_met(3)


def test_title_bounds() -> None:
    assert validate_title("abc") == "abc"
    assert validate_title("  Save   the\nbees ") == "Save the bees"
    assert validate_title("t" * TITLE_MAX) == "t" * TITLE_MAX
    with pytest.raises(InvalidInput) as short:
        validate_title(" ab  ")
    assert (short.value.key, dict(short.value.text.params)) == ("title.too_short", {"min": 3})
    with pytest.raises(InvalidInput) as long:
        validate_title("t" * (TITLE_MAX + 1))
    assert (long.value.key, dict(long.value.text.params)) == (
        "title.too_long",
        {"max": TITLE_MAX, "length": TITLE_MAX + 1},
    )


def test_new_refs_are_short_and_unambiguous() -> None:
    refs = {new_ref() for _ in range(200)}
    assert len(refs) > 190
    for ref in refs:
        assert re.fullmatch(rf"[A-HJ-NP-Z2-9]{{{REF_LENGTH}}}", ref), ref


@pytest.mark.parametrize("typed", ["K7QX2M", "k7qx2m", "#k7qx2m", "  #K7qx2M "])
def test_refs_are_normalised(typed: str) -> None:
    assert normalise_ref(typed) == "K7QX2M"
