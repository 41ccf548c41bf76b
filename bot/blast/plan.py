"""Sorting a campaign's pledges at launch into what each sender has to do.

Auto pledges go to their network's sender, tap pledges to the one-tap offer; each as
fresh (QUEUED) or caught mid-request by a crash (SENDING). Pledges queued for a network
that is no longer configured are failed here rather than left hanging. Accounts are not
needed here: the senders fetch them a batch at a time (``bot.blast.accounts``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.blast.prepare import REASON_UNAVAILABLE, mode_of
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import DeliveryHead, DeliveryState, Pledge, PledgeStatus, change_status
from bot.ports import SocialNetwork


@dataclass
class DeliveryPlan:
    """The senders consume these lists as they go (so delivered pledges can be freed)."""

    auto_queued: dict[Network, list[Pledge]] = field(default_factory=dict)
    auto_sending: dict[Network, list[Pledge]] = field(default_factory=dict)
    tap_queued: list[Pledge] = field(default_factory=list)
    tap_sending: list[Pledge] = field(default_factory=list)
    stranded: list[Pledge] = field(default_factory=list)
    has_tap: bool = False

    @property
    def auto_networks(self) -> set[Network]:
        return self.auto_queued.keys() | self.auto_sending.keys()


def sort_heads(
    heads: list[DeliveryHead],
    *,
    networks: Mapping[Network, SocialNetwork],
    modes: Mapping[Network, DeliveryMode],
) -> tuple[list[int], list[int]]:
    """The ids the shared blast's workers can post as they are (auto, queued or caught
    mid-request, on a network still configured), and the ids the launch must load and
    plan itself (the rest)."""
    shared: list[int] = []
    rest: list[int] = []
    for head in heads:
        ready = (
            head.delivery in _POSTABLE
            and head.network in networks
            and mode_of(head, modes) is DeliveryMode.AUTO
        )
        (shared if ready else rest).append(head.id)
    return shared, rest


_POSTABLE = frozenset({DeliveryState.QUEUED, DeliveryState.SENDING})


def plan_deliveries(
    pledges: list[Pledge],
    *,
    queued: Collection[int],
    networks: Mapping[Network, SocialNetwork],
    modes: Mapping[Network, DeliveryMode],
    now: datetime,
) -> DeliveryPlan:
    """``pledges`` as loaded before the launch-time preparation; ``queued``: the ids that
    preparation moved from WAITING to QUEUED (the other WAITING ones it failed)."""
    plan = DeliveryPlan()
    for pledge in pledges:
        if pledge.delivery is DeliveryState.WAITING:
            if pledge.id not in queued:
                continue  # failed by the preparation: revoked, network not available
            pledge = replace(pledge, delivery=DeliveryState.QUEUED)
        elif pledge.network not in networks:  # queued before the network went away
            plan.stranded.append(
                change_status(pledge, PledgeStatus.FAILED, at=now, reason=REASON_UNAVAILABLE)
            )
            continue
        is_tap = mode_of(pledge, modes) is DeliveryMode.TAP
        plan.has_tap = plan.has_tap or is_tap
        if pledge.delivery is DeliveryState.QUEUED:
            target = plan.tap_queued if is_tap else plan.auto_queued.setdefault(pledge.network, [])
        elif pledge.delivery is DeliveryState.SENDING:
            target = (
                plan.tap_sending if is_tap else plan.auto_sending.setdefault(pledge.network, [])
            )
        else:
            continue  # offered already (TAP_OFFERED): the read-back takes it from here
        target.append(pledge)
    return plan
