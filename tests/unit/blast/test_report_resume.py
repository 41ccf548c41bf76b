"""A report stopped part-way is finished by the next run, each of its effects once.

Stopped how: the scheduler stopped (SIGTERM, the leadership lost) while one of the report's
messages is on its way, or the database failing at one of its steps, then a restart (or a
take-over, which starts the scheduler the same way). Whatever the step, afterwards the
organiser has the report once, each promoted chat once, each supporter their own result
once, the unconfirmed taps are closed once, and the tokens nothing needs are released.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from adapters.networks.x import X
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.blast.harness import (
    GROUP,
    GROUPE,
    MESSAGE,
    ORGANISER,
    FlakyRepository,
    World,
    make_world,
)

# the report of three auto supporters: the organiser, two chats, three results
AUTO_REPORT_SENDS = 6
# the report of a tap campaign, one supporter posted: organiser, two chats, one result
TAP_REPORT_SENDS = 4


@dataclass
class HoldingFrontEnd(RecordingFrontEnd):
    """Counts new messages (not edits) from ``arm``; holds the ``hold_at``-th in flight
    until ``release``, as a slow request the stop lands in; fails the ``fail_at``-th."""

    hold_at: int | None = None
    fail_at: int | None = None
    count: int = 0
    base: int = 0  # how many were recorded before ``arm``
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, *, hold_at: int | None = None, fail_at: int | None = None) -> None:
        self.hold_at, self.fail_at, self.count = hold_at, fail_at, 0
        self.base = len(self.sent)

    async def _turn(self) -> None:
        index, self.count = self.count, self.count + 1
        if index == self.fail_at:
            raise RuntimeError("Bad Gateway")
        if index == self.hold_at:
            self.reached.set()
            await self.release.wait()

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        await self._turn()
        return await super().send(chat, message, language)

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        await self._turn()
        return await super().send_to_user(user, message)


def _results_to(world: World, person: UserRef) -> int:
    return sum(
        1 for s in world.chat.to(f"user:{person.id}") if any(k == "result.totals" for k in s.keys)
    )


async def _assert_reported_once(
    world: World, campaign: Campaign, told: list[Pledge], silent: tuple[Pledge, ...] = ()
) -> None:
    """Every effect of the report happened, and once."""
    assert campaign.id is not None
    organiser = world.chat.keys_to(f"user:{ORGANISER.id}")
    assert organiser.count("blast.report_title") == 1
    for chat in (GROUP, GROUPE):
        assert world.chat.keys_to(f"chat:{chat.id}").count("blast.report_title") == 1, chat
    for pledge in told:
        assert _results_to(world, pledge.supporter) == 1, pledge.supporter
    for pledge in silent:
        assert _results_to(world, pledge.supporter) == 0, pledge.supporter
    for pledge in [*told, *silent]:  # the campaign is over: nothing needs their tokens
        account = await world.repo.get_account(pledge.account_id)
        assert account is not None and account.tokens.access_token == ""
    assert await world.repo.event_claimed(campaign.id, EventKind.REPORT)
    assert await world.repo.event_claimed(campaign.id, EventKind.REPORT_DONE)
    assert not [job for job in world.scheduler.armed() if job.endswith(":report")]


async def _stop_while_sending(world: World, chat: HoldingFrontEnd, moment: object) -> None:
    """Run what falls due at ``moment`` and stop the scheduler while the held message is
    on its way; the message arrives during the stop."""
    world.clock.set(moment)  # type: ignore[arg-type]
    run = asyncio.create_task(world.scheduler.sync())
    await asyncio.wait_for(chat.reached.wait(), 10)
    stopping = asyncio.create_task(world.scheduler.stop())
    await asyncio.sleep(0.05)  # the stop has cancelled the run; the request goes on
    chat.release.set()
    await asyncio.wait_for(stopping, 10)
    await asyncio.wait_for(run, 10)


async def _assert_stopped(
    world: World, campaign: Campaign, chat: HoldingFrontEnd, held: int
) -> None:
    """The stop interrupted the report: the held message (and those sent alongside it,
    the results go several at once) arrived, the report is not done."""
    assert campaign.id is not None
    assert chat.count >= held + 1
    arrived = [s for s in chat.sent[chat.base :] if not s.where.startswith("edit:")]
    assert len(arrived) == chat.count  # none was cut off
    assert not await world.repo.event_claimed(campaign.id, EventKind.REPORT_DONE)


@pytest.mark.parametrize("held", range(AUTO_REPORT_SENDS))
async def test_an_auto_report_stopped_at_any_message_is_finished_on_restart(
    repo: Repository, clock: FakeClock, held: int
) -> None:
    chat = HoldingFrontEnd()
    world = await make_world(repo, clock, chat=chat)
    campaign = await world.campaign()
    supporters = [(await world.supporter(campaign))[0] for _ in range(3)]
    await world.go(campaign.launch_at - timedelta(minutes=1))
    chat.arm(hold_at=held)

    await _stop_while_sending(world, chat, campaign.launch_at)
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    await _assert_stopped(world, campaign, chat, held)

    world.clock.set(campaign.launch_at + timedelta(minutes=2))
    await world.restart()
    await _assert_reported_once(world, campaign, supporters)
    await world.restart()  # and again: nothing more
    await world.go(campaign.launch_at + timedelta(hours=5))
    await _assert_reported_once(world, campaign, supporters)


@pytest.mark.parametrize("held", range(TAP_REPORT_SENDS))
async def test_a_tap_report_stopped_at_any_message_is_finished_on_restart(
    repo: Repository, clock: FakeClock, held: int
) -> None:
    chat = HoldingFrontEnd()
    world = await make_world(repo, clock, chat=chat)  # X: tap
    campaign = await world.campaign(networks=(X,))
    tapped, account = await world.supporter(campaign, network=X)
    never, _ = await world.supporter(campaign, network=X)
    await world.go(campaign.launch_at)
    world.x.user_posts(account, MESSAGE, at=campaign.launch_at + timedelta(minutes=5))
    report_at = campaign.launch_at + timedelta(minutes=world.core.settings.tap_readback_minutes)
    await world.go(report_at - timedelta(minutes=1))
    chat.arm(hold_at=held)

    await _stop_while_sending(world, chat, report_at)
    await _assert_stopped(world, campaign, chat, held)

    world.clock.set(report_at + timedelta(minutes=2))
    await world.restart()
    await _assert_reported_once(world, campaign, [tapped], silent=(never,))
    assert (await world.pledge(tapped)).status is PledgeStatus.POSTED
    closed = await world.pledge(never)
    assert closed.status is PledgeStatus.FAILED and closed.failure_reason == "not_posted"
    assert "blast.report_tapped" in world.chat.keys_to(f"user:{ORGANISER.id}")


# each step of the report, as the database call that starts it
STEPS = [
    ("claim_event", "report"),  # the taps are closed: the figures are final
    ("claim_event", "report_organiser"),
    ("claim_event", "report_chat"),
    ("claim_event", "personal_result"),
    ("release_tokens", None),
    ("claim_event", "report_done"),
]


@pytest.mark.parametrize(("method", "kind"), STEPS)
async def test_a_report_stopped_by_the_database_at_any_step_is_finished_on_restart(
    repo: Repository, clock: FakeClock, method: str, kind: str | None
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock, tuning={"launch_retries": 0})  # type: ignore[arg-type]
    campaign = await world.campaign()
    supporters = [(await world.supporter(campaign))[0] for _ in range(3)]
    await world.go(campaign.launch_at - timedelta(minutes=1))
    flaky.fail(method, lambda *args, **_: kind is None or (len(args) > 1 and args[1] == kind))

    await world.go(campaign.launch_at)
    assert flaky.failed == [method]
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED

    await world.restart()
    await _assert_reported_once(world, campaign, supporters)


async def test_a_report_message_that_failed_is_logged_and_not_sent_again(
    repo: Repository, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """At most once for messages to people: the organiser's report was claimed, its send
    failed; a later run does not send it again (it might have arrived), and says so."""
    chat = HoldingFrontEnd()
    world = await make_world(repo, clock, chat=chat)
    campaign = await world.campaign()
    supporters = [(await world.supporter(campaign))[0] for _ in range(2)]
    await world.go(campaign.launch_at - timedelta(minutes=1))
    chat.arm(fail_at=0)  # the organiser's report, the first message of the report
    with caplog.at_level(logging.WARNING):
        await world.go(campaign.launch_at)
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 0
    assert any(
        "report" in r.getMessage() and "organiser" in r.getMessage() for r in caplog.records
    )
    await world.restart()
    await world.go(campaign.launch_at + timedelta(hours=5))
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 0
    for pledge in supporters:
        assert _results_to(world, pledge.supporter) == 1
    assert campaign.id is not None
    assert await world.repo.event_claimed(campaign.id, EventKind.REPORT_DONE)
