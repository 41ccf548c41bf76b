"""A pledge's status changes and what each one does to its delivery record."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from bot.domain.errors import InvalidTransition
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.domain.text import Text

P = PledgeStatus
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
ALLOWED = {
    (P.PLEDGED, P.WITHDRAWN),
    (P.PLEDGED, P.POSTED),
    (P.PLEDGED, P.FAILED),
    (P.WITHDRAWN, P.PLEDGED),
    (P.FAILED, P.POSTED),  # a tap pledge read back late
}


def pledge(status: PledgeStatus = P.PLEDGED, **changes: object) -> Pledge:
    base = Pledge(
        campaign_id=1,
        supporter=UserRef("test", "5", "Sam"),
        account_id=7,
        network=MASTODON,
        created_at=NOW,
        status=status,
    )
    return Pledge(**{**base.__dict__, **changes})


@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_allowed(old: PledgeStatus, new: PledgeStatus) -> None:
    assert change_status(pledge(old), new, at=NOW).status is new


@pytest.mark.parametrize(("old", "new"), [p for p in itertools.product(P, P) if p not in ALLOWED])
def test_forbidden(old: PledgeStatus, new: PledgeStatus) -> None:
    with pytest.raises(InvalidTransition) as exc:
        change_status(pledge(old), new, at=NOW)
    assert exc.value.key == f"pledge.cannot_{new.value}"
    assert exc.value.text.params == {"status": Text(f"pledge_status.{old.value}")}


def test_failed_keeps_the_reason_and_closes_delivery() -> None:
    failed = change_status(pledge(delivery=DeliveryState.SENDING), P.FAILED, at=NOW, reason="x")
    assert (failed.failure_reason, failed.delivery) == ("x", DeliveryState.DONE)


def test_posted_after_failure_clears_the_reason_and_stamps_the_time() -> None:
    later = NOW + timedelta(hours=1)
    failed = change_status(pledge(), P.FAILED, at=NOW, reason="revoked")
    posted = change_status(failed, P.POSTED, at=later)
    assert (posted.failure_reason, posted.posted_at, posted.delivery) == (
        None,
        later,
        DeliveryState.DONE,
    )


def test_renewing_a_withdrawn_pledge_waits_for_launch_again() -> None:
    withdrawn = change_status(pledge(), P.WITHDRAWN, at=NOW)
    renewed = change_status(withdrawn, P.PLEDGED, at=NOW)
    assert (renewed.status, renewed.delivery) == (P.PLEDGED, DeliveryState.WAITING)
