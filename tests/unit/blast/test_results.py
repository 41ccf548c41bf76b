"""Each supporter's own result after the report: auto gets the link to their post, tap a
thank-you once read back, nothing for a tap never used; once per person, whatever runs
the report again or restarts."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.blast import heap
from bot.blast.report import NOT_POSTED
from bot.blast.results import personal_result
from bot.domain.cards import CampaignStats
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.outcomes import OutcomeKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import MessageRef, UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.blast.harness import MESSAGE, make_world

RESULT_KEYS = ("result.posted", "result.tapped", "result.failed", "result.totals")


def results_to(world: object, person: UserRef) -> list[list[str]]:
    chat = world.chat  # type: ignore[attr-defined]
    return [
        s.keys
        for s in chat.to(f"user:{person.id}")
        if any(k.startswith("result.") for k in s.keys)
    ]


async def test_auto_supporters_get_their_link_and_the_totals_once(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    posted, _ = await world.supporter(campaign, followers=30)
    twice, _ = await world.supporter(campaign, followers=5)
    await world.supporter(campaign, person=twice.supporter, followers=7)  # a second account
    revoked, revoked_account = await world.supporter(campaign)
    web, _ = await world.supporter(campaign, person=UserRef("web", "w1", "web supporter"))
    world.mastodon.script_kind(revoked_account.id or 0, OutcomeKind.REVOKED)

    await world.go(campaign.launch_at)

    (keys,) = results_to(world, posted.supporter)
    assert keys == ["result.posted", "result.totals"]
    text = world.texts_to(f"user:{posted.supporter.id}")
    url = (await world.pledge(posted)).remote_post_url
    assert url and url in text
    assert "Together: 4 supporters, 4 posts, 52 followers reached." in text
    assert results_to(world, twice.supporter) == [
        ["result.posted", "result.posted", "result.totals"]
    ]
    # the failure was explained once by the failure notice; no second message about it
    assert results_to(world, revoked.supporter) == []
    assert world.chat.to(f"user:{web.supporter.id}") == []  # no chat to send to

    await world.core.blast.report(await world.reload(campaign))  # a second run
    await world.restart()
    await world.go(campaign.launch_at + timedelta(hours=5))
    assert len(results_to(world, posted.supporter)) == 1
    assert len(results_to(world, twice.supporter)) == 1


async def test_tap_supporters_are_thanked_once_read_back_and_others_not_nagged(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)  # X: tap
    campaign = await world.campaign(networks=(X,))
    tapped, account = await world.supporter(campaign, network=X, language="fr")
    never, _ = await world.supporter(campaign, network=X)
    await world.go(campaign.launch_at)
    assert results_to(world, tapped.supporter) == []  # the report waits for the taps

    world.x.user_posts(account, MESSAGE, at=campaign.launch_at + timedelta(minutes=5))
    await world.scheduler.stop()
    clock.set(campaign.launch_at + timedelta(hours=3))  # down over the report's moment
    await world.restart()

    assert results_to(world, tapped.supporter) == [["result.tapped", "result.totals"]]
    text = world.texts_to(f"user:{tapped.supporter.id}")
    assert "Merci d'avoir publié pour « Save the bees »" in text
    assert "Ensemble : 2 soutiens, 1 publication, 10 abonnés atteints." in text
    assert results_to(world, never.supporter) == []

    await world.restart()
    await world.core.blast.report(await world.reload(campaign))
    assert len(results_to(world, tapped.supporter)) == 1


async def test_a_person_already_claimed_is_not_told_again(
    repo: Repository, clock: FakeClock
) -> None:
    """As after a run that told one person and stopped: the claim is the guard."""
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    told, _ = await world.supporter(campaign)
    other, _ = await world.supporter(campaign)
    assert campaign.id is not None and told.id is not None
    await world.repo.claim_event(campaign.id, EventKind.PERSONAL_RESULT, clock.now(), told.id)
    await world.go(campaign.launch_at)
    assert results_to(world, told.supporter) == []
    assert len(results_to(world, other.supporter)) == 1


async def test_what_each_pledge_says(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    pledge, _ = await world.supporter(campaign)
    modes = {MASTODON: DeliveryMode.AUTO, X: DeliveryMode.TAP}
    stats = CampaignStats(supporters=1)
    auto = replace(pledge, delivery_mode=DeliveryMode.AUTO)

    def keys(**changes: object) -> list[str] | None:
        message = personal_result(campaign, [replace(auto, **changes)], stats, modes)
        return None if message is None else [p.key for p in message.parts]

    assert keys(status=PledgeStatus.POSTED) == ["result.posted_no_link", "result.totals"]
    assert keys(status=PledgeStatus.FAILED, failure_reason="network_down") == [
        "result.failed",
        "result.totals",
    ]
    assert keys(status=PledgeStatus.FAILED, failure_reason="revoked") is None
    assert keys(status=PledgeStatus.WITHDRAWN) is None
    assert keys(status=PledgeStatus.PLEDGED) is None
    tap = {"delivery_mode": DeliveryMode.TAP}
    assert keys(status=PledgeStatus.POSTED, **tap) == ["result.tapped_no_link", "result.totals"]
    assert keys(status=PledgeStatus.FAILED, failure_reason=NOT_POSTED, **tap) is None


class FreezeWatchingChat(RecordingFrontEnd):
    """Notes how many objects the collector has frozen when each result goes out."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen_at_results: list[int] = []

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        if any(part.key.startswith("result.") for part in message.parts):
            self.frozen_at_results.append(gc.get_freeze_count())
        return await super().send_to_user(user, message)


async def test_the_pledges_the_report_loads_are_out_of_the_collectors_sight(
    repo: Repository, clock: FakeClock
) -> None:
    """The report reads every pledge of the campaign and tells each supporter; left to
    the collector, those objects made a young and then a middle collection of 14-17 ms
    each in the first second of telling (every reply waiting meanwhile waited them out).
    The report freezes its load as the blast does (``bot.blast.heap``), and afterwards
    leaves the collector as it found it."""
    chat = FreezeWatchingChat()
    world = await make_world(repo, clock, chat=chat)
    campaign = await world.campaign()
    for _ in range(3):
        await world.supporter(campaign)
    frozen_before = gc.get_freeze_count()
    assert frozen_before == 0  # no start-up freeze in this test process

    await world.go(campaign.launch_at)

    assert len(chat.frozen_at_results) == 3
    assert all(frozen > 0 for frozen in chat.frozen_at_results)
    assert gc.get_freeze_count() == 0  # thawed at the end (nothing froze before it)
    assert gc.isenabled()


async def test_the_report_after_a_blast_shares_its_heap_scope(
    repo: Repository, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entering a heap scope from none counts the frozen objects (``gc.get_freeze_count``
    walks them all: ~20 ms of one turn with a process's start-up frozen). The report that
    follows a blast runs inside the blast's scope, so a launch enters one scope, not two."""
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    told, _ = await world.supporter(campaign)
    counted: list[int] = []
    count = gc.get_freeze_count

    def counting() -> int:
        counted.append(1)
        return count()

    monkeypatch.setattr(heap.gc, "get_freeze_count", counting)

    await world.go(campaign.launch_at)

    assert len(results_to(world, told.supporter)) == 1  # the report ran
    assert len(counted) == 1
