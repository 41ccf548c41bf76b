"""Succession: the leader alone arms the timers and runs maintenance; a follower takes over
when the leadership is lost; a change made in a follower reaches the leader's timers.

Two cores built on one repository play two processes; their claims share an in-memory lock
(the PostgreSQL one is tested in ``tests/integration/storage/test_leadership.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.networks.sandbox import SANDBOX_SPEC, SandboxNetwork
from bot.app import Chorus, build_chorus
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from bot.leadership import MAX_SKIPPED_TURNS, Duty, DutyError, Role, skipped_turns
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.scheduler.events import CLAIMED, Event, job_id
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from tests.conftest import TEST_SECRET

GUARD = 10.0  # seconds before a stuck wait fails the test (a guard, not a speed check)
ORGANISER = UserRef("console", "organiser", "Olga")
MODERATOR = UserRef("console", "moderator", "Mo")


class SharedLock:
    """What the database holds: who leads, and who listens for news."""

    def __init__(self) -> None:
        self.holder: MemoryLeadership | None = None
        self.listeners: list[Callable[[int], None]] = []
        self.announced: list[int] = []


class MemoryLeadership:
    """One process's claim on ``lock``; ``cut`` plays the loss of its database session."""

    def __init__(self, lock: SharedLock) -> None:
        self.lock = lock
        self.cut = False
        self.closed = False

    async def acquire(self) -> bool:
        if self.cut:
            raise ConnectionError("the database is unreachable")
        if self.lock.holder is None:
            self.lock.holder = self
        return self.lock.holder is self

    async def held(self) -> bool:
        if self.cut:
            raise ConnectionError("the database is unreachable")
        return self.lock.holder is self

    async def release(self) -> None:
        if self.lock.holder is self:
            self.lock.holder = None

    async def announce(self, campaign_id: int) -> None:
        self.lock.announced.append(campaign_id)
        for listener in self.lock.listeners:
            listener(campaign_id)

    def listen(self, on_change: Callable[[int], None]) -> None:
        self.lock.listeners.append(on_change)

    async def close(self) -> None:
        self.closed = True
        await self.release()

    def lose(self) -> None:
        """The session dies: the server frees the lock, this process cannot reach it."""
        self.cut = True
        if self.lock.holder is self:
            self.lock.holder = None


class ManualSleep:
    """A ``sleep`` the test releases by hand: each wait ends when the test says so."""

    def __init__(self) -> None:
        self._sleepers: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        self._pending: asyncio.Future[None] | None = None

    async def __call__(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._sleepers.put(wake)
        await wake

    async def turn(self) -> None:
        """Let the watch run one turn: wake it, then wait until it sleeps again."""
        async with asyncio.timeout(GUARD):
            wake = self._pending or await self._sleepers.get()
            self._pending = None
            wake.set_result(None)
            self._pending = await self._sleepers.get()


def process(
    repo: Repository, clock: FakeClock, lock: SharedLock, duties: dict[str, Duty] | None = None
) -> tuple[Chorus, MemoryLeadership]:
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    leadership = MemoryLeadership(lock)
    core = build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=sandbox(clock),
        leadership=leadership,
        duties=duties,
    )
    return core, leadership


class Gateway:
    """A chat front end's leader duty whose platform is unreachable ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the platform is unreachable")
        self.running = True

    async def stop(self) -> None:
        self.running = False


def sandbox(clock: FakeClock) -> NetworkRegistry:
    registry = NetworkRegistry()
    registry.register(SANDBOX_SPEC, SandboxNetwork(clock))
    return registry


def manual(core: Chorus) -> ManualSleep:
    sleep = ManualSleep()
    core.succession._sleep = sleep  # the watch's clock, released by the test
    return sleep


async def live_campaign(core: Chorus, clock: FakeClock) -> Campaign:
    draft = CampaignDraft(
        title="Leaders",
        message="Who leads? #ChorusLeads https://chorus.example/lead",
        goal=0,
        launch_at=clock.now() + timedelta(hours=2),
        networks=(SANDBOX_SPEC.id,),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(GUARD):
        while not condition():  # noqa: ASYNC110 - the timers live in another object
            await asyncio.sleep(0.01)
    assert condition(), what


async def test_alone_on_sqlite_the_process_leads_and_arms_its_timers(
    repo: Repository, clock: FakeClock
) -> None:
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, clock, secret=TEST_SECRET, registry=sandbox(clock))
    campaign = await live_campaign(core, clock)
    assert campaign.id is not None
    assert core.succession.role is Role.FOLLOWER  # not started yet
    await core.succession.start()
    try:
        assert core.succession.role is Role.LEADER
        assert core.maintenance.running
        assert job_id(campaign.id, Event.LAUNCH) in core.scheduler.armed()
    finally:
        await core.succession.stop()
    assert core.succession.role is Role.FOLLOWER
    assert not core.maintenance.running


async def test_one_leads_the_other_follows_and_takes_over_when_the_leader_is_lost(
    repo: Repository, clock: FakeClock
) -> None:
    lock = SharedLock()
    first, first_claim = process(repo, clock, lock)
    second, second_claim = process(repo, clock, lock)
    campaign = await live_campaign(first, clock)
    assert campaign.id is not None
    launch = job_id(campaign.id, Event.LAUNCH)
    first_sleep, second_sleep = manual(first), manual(second)
    await first.succession.start()
    await second.succession.start()
    try:
        assert (first.succession.role, second.succession.role) == (Role.LEADER, Role.FOLLOWER)
        assert launch in first.scheduler.armed() and first.maintenance.running
        assert second.scheduler.armed() == {} and not second.maintenance.running

        await second_sleep.turn()  # a follower's attempt changes nothing
        assert second.succession.role is Role.FOLLOWER

        first_claim.lose()
        await first_sleep.turn()  # the leader notices: everything stops at once
        assert first.succession.role is Role.FOLLOWER
        assert not first.maintenance.running and first.scheduler.armed() == {}
        await second_sleep.turn()  # the follower takes over and re-arms from the database
        assert second.succession.role is Role.LEADER
        assert launch in second.scheduler.armed() and second.maintenance.running

        await first_sleep.turn()  # the old leader, cut off, keeps trying and stays out
        assert first.succession.role is Role.FOLLOWER

        first_claim.cut = False  # back on line; now the second is lost: the first leads again
        second_claim.lose()
        await second_sleep.turn()
        await first_sleep.turn()
        assert (first.succession.role, second.succession.role) == (Role.LEADER, Role.FOLLOWER)
        assert launch in first.scheduler.armed() and first.maintenance.running
        assert not second.maintenance.running
    finally:
        await second.succession.stop()
        await first.succession.stop()
    assert lock.holder is None and first_claim.closed and second_claim.closed


async def test_a_change_made_in_a_follower_reaches_the_leaders_timers(
    repo: Repository, clock: FakeClock
) -> None:
    lock = SharedLock()
    leader, _ = process(repo, clock, lock)
    follower, _ = process(repo, clock, lock)
    manual(leader), manual(follower)
    await leader.succession.start()
    await follower.succession.start()
    try:
        campaign = await live_campaign(follower, clock)  # approved in the follower
        assert campaign.id is not None
        assert lock.announced[-1] == campaign.id
        launch = job_id(campaign.id, Event.LAUNCH)
        await eventually(lambda: launch in leader.scheduler.armed(), "the leader to arm it")
        assert follower.scheduler.armed() == {}

        cancelled = await follower.campaigns.cancel(campaign.ref, ORGANISER)
        assert cancelled is not None
        await eventually(lambda: launch not in leader.scheduler.armed(), "the leader to drop it")
    finally:
        await follower.succession.stop()
        await leader.succession.stop()


async def test_a_takeover_that_cannot_start_its_duties_gives_the_leadership_back(
    cipher: TokenCipher, clock: FakeClock
) -> None:
    lock = SharedLock()
    gone = await open_repository("sqlite:///:memory:", cipher)
    await gone.close()  # the scheduler cannot read the campaigns
    core, claim = process(gone, clock, lock)
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        await core.succession.start()
    assert core.succession.role is Role.FOLLOWER
    assert lock.holder is None and not core.maintenance.running
    assert claim.closed is False


async def test_a_reminder_due_while_no_process_led_is_sent_by_the_one_taking_over(
    repo: Repository, clock: FakeClock
) -> None:
    lock = SharedLock()
    first, first_claim = process(repo, clock, lock)
    second, _ = process(repo, clock, lock)
    campaign = await live_campaign(first, clock)
    assert campaign.id is not None
    first_sleep, second_sleep = manual(first), manual(second)
    await first.succession.start()
    await second.succession.start()
    try:
        first_claim.lose()
        await first_sleep.turn()
        clock.set(campaign.launch_at - timedelta(hours=1) + timedelta(seconds=30))
        await second_sleep.turn()  # the 1-hour reminder came due 30 s ago, no one leading
        assert second.succession.role is Role.LEADER
        await second.scheduler.wait_idle()
        assert await repo.event_claimed(campaign.id, CLAIMED[Event.REMINDER_1H])
        assert not await repo.event_claimed(campaign.id, CLAIMED[Event.REMINDER_24H])
    finally:
        await second.succession.stop()
        await first.succession.stop()


async def test_extra_duties_start_after_maintenance_and_stop_with_the_leadership(
    repo: Repository, clock: FakeClock
) -> None:
    lock = SharedLock()
    first_gateway, second_gateway = Gateway(), Gateway()
    first, first_claim = process(repo, clock, lock, {"gateway": first_gateway})
    second, _ = process(repo, clock, lock, {"gateway": second_gateway})
    first_sleep, second_sleep = manual(first), manual(second)
    await first.succession.start()
    await second.succession.start()
    try:
        assert first_gateway.running and not second_gateway.running
        await second_sleep.turn()
        assert second_gateway.starts == 0  # a follower never starts it

        first_claim.lose()
        await first_sleep.turn()  # stepping down stops it at once
        assert not first_gateway.running
        await second_sleep.turn()
        assert second_gateway.running and second.succession.role is Role.LEADER
    finally:
        await second.succession.stop()
        await first.succession.stop()
    assert not second_gateway.running


async def test_a_duty_that_fails_at_a_takeover_is_retried_and_the_leadership_kept(
    repo: Repository, clock: FakeClock
) -> None:
    """A chat platform down must not stop the timers: the new leader keeps leading (the
    scheduler and maintenance run) and starts the duty again at each turn until it starts."""
    lock = SharedLock()
    first, first_claim = process(repo, clock, lock)
    gateway = Gateway(failures=2)
    second, _ = process(repo, clock, lock, {"gateway": gateway})
    first_sleep, second_sleep = manual(first), manual(second)
    await first.succession.start()
    await second.succession.start()
    try:
        first_claim.lose()
        await first_sleep.turn()
        await second_sleep.turn()  # takes over; the duty fails to start
        assert second.succession.role is Role.LEADER and second.maintenance.running
        assert gateway.starts == 1 and not gateway.running
        await second_sleep.turn()  # fails again
        assert second.succession.role is Role.LEADER and not gateway.running
        await second_sleep.turn()  # now it starts
        assert gateway.running and gateway.starts == 3
        await second_sleep.turn()  # running: not started twice
        assert gateway.starts == 3
    finally:
        await second.succession.stop()
        await first.succession.stop()
    assert not gateway.running


async def test_a_duty_that_fails_at_the_first_start_fails_the_start(
    repo: Repository, clock: FakeClock
) -> None:
    """At the process's start a duty that cannot start is an error to show, not to hide."""
    lock = SharedLock()
    core, _ = process(repo, clock, lock, {"gateway": Gateway(failures=1)})
    with pytest.raises(DutyError, match="the gateway failed to start: the platform is unre"):
        await core.succession.start()
    assert core.succession.role is Role.FOLLOWER
    assert lock.holder is None and not core.maintenance.running


class MortalGateway(Gateway):
    """A duty whose connection can die for good while it runs (``die``)."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(failures)
        self.why: str | None = None
        self.stops = 0

    def die(self, why: str) -> None:
        self.why = why

    def failure(self) -> str | None:
        return self.why if self.running else None

    async def start(self) -> None:
        await super().start()
        self.why = None

    async def stop(self) -> None:
        self.stops += 1
        await super().stop()


async def test_a_duty_that_stops_on_its_own_while_leading_is_started_again(
    repo: Repository, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway whose connection died must not leave the leader deaf until a restart."""
    lock = SharedLock()
    gateway = MortalGateway()
    core, _ = process(repo, clock, lock, {"gateway": gateway})
    sleep = manual(core)
    await core.succession.start()
    try:
        assert gateway.running and gateway.starts == 1
        await sleep.turn()
        assert gateway.starts == 1  # alive: left alone
        gateway.die("ConnectionClosed: 4004")
        await sleep.turn()
        assert gateway.stops == 1 and gateway.starts == 2 and gateway.failure() is None
        assert "the gateway stopped on its own (ConnectionClosed: 4004)" in caplog.text
        assert core.succession.role is Role.LEADER and core.maintenance.running
    finally:
        await core.succession.stop()
    assert not gateway.running


async def test_a_duty_that_keeps_failing_is_tried_less_and_less_often(
    repo: Repository, clock: FakeClock
) -> None:
    """A token that stays wrong: tried at each of the first turns, then with growing gaps
    up to a cap, and at once again after it started."""
    lock = SharedLock()
    gateway = MortalGateway()
    core, _ = process(repo, clock, lock, {"gateway": gateway})
    sleep = manual(core)
    await core.succession.start()
    try:
        gateway.failures = 1_000
        gateway.die("ConnectionClosed: 4004")
        attempts: list[int] = []
        for turn in range(1, 40):
            before = gateway.starts
            await sleep.turn()
            if gateway.starts > before:
                attempts.append(turn)
        assert attempts == [1, 2, 3, 4, 7, 12, 21, 38]  # gaps 0, 0, 0, 2, 4, 8, 16
        assert core.succession.role is Role.LEADER and not gateway.running
        gateway.failures = 0
        for _ in range(MAX_SKIPPED_TURNS + 1):
            await sleep.turn()
        assert gateway.running
        gateway.die("closed")
        await sleep.turn()
        assert gateway.running and gateway.failure() is None  # the count started over
    finally:
        await core.succession.stop()


def test_the_gaps_between_attempts_grow_to_a_cap() -> None:
    assert [skipped_turns(n) for n in range(1, 12)] == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]
