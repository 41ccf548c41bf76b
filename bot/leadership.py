"""Who leads among the processes sharing one database, and what leading starts.

Every ``chorus run`` serves the web app and its chat front ends; only the leader arms the
timers (the ``LaunchScheduler``, hence the blast, reminders and reports), runs
maintenance and the chat front ends' leader duties (Telegram's webhook registration or
polling, Discord's gateway: adapters hand them in by name, the core sees only ``Duty``).
``Succession`` holds the ``Leadership`` port: it tries to lead every ``poll_seconds``; on
taking over it starts the scheduler (which re-reads every campaign from the database and
runs what came due while no one led, each event claimed once), then the duties; when the
leadership is lost (the check fails, the link to the database is gone) it stops them at
once, in reverse, before anyone else can take over (Telegram refuses two pollers).

It is also the campaign service's ``CampaignWatcher``: a change made in a follower (an
approval, a cancellation) is announced to the leader, wherever it runs, which re-arms
that campaign. On SQLite ``SoleLeadership`` leads from the start and announces nothing:
one process, nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

from bot.domain.campaign import Campaign
from bot.ports import Leadership, Repository
from bot.role import Role, RoleState

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Duty(Protocol):
    """What only the leader runs (maintenance, a chat platform's intake or gateway)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@runtime_checkable
class Supervised(Protocol):
    """A duty that can stop on its own while it runs (a gateway connection that died)."""

    def failure(self) -> str | None:
        """Why it stopped since it started, or None while it runs."""
        ...


class DutyError(RuntimeError):
    """A duty could not start when the process started; the message names it."""


class Scheduler(Protocol):
    """The ``LaunchScheduler``: started first, stopped last."""

    async def start(self, *, takeover: bool = False) -> None: ...
    async def stop(self) -> None: ...
    async def campaign_changed(self, campaign: Campaign) -> None: ...


class SoleLeadership:
    """The leadership of a single process (SQLite, the console, tests): always held."""

    async def acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None

    async def announce(self, campaign_id: int) -> None:
        return None  # the only process is the leader: it heard the change itself

    def listen(self, on_change: Callable[[int], None]) -> None:
        return None

    async def close(self) -> None:
        return None


EAGER_RETRIES = 3  # failures to start in a row tried again at the very next turn
MAX_SKIPPED_TURNS = 60  # at most this many turns between two attempts (a minute at 1 s)


def skipped_turns(failures: int) -> int:
    """Turns to let pass after ``failures`` failures in a row: none for the first few,
    then doubling up to ``MAX_SKIPPED_TURNS``."""
    if failures <= EAGER_RETRIES:
        return 0
    return min(MAX_SKIPPED_TURNS, 2 ** min(failures - EAGER_RETRIES, 6))


class Succession:
    """Starts the leader's duties while ``leadership`` is held, stops them when it is not.

    The scheduler, then ``duties`` (by name), start in order and stop in reverse; a
    take-over after the process's start tells the scheduler so (a reminder that came due
    while no process led still goes). At the process's start a duty that cannot start is
    an error; at a later take-over it is logged and tried again while this process leads
    (at each of the first ``EAGER_RETRIES`` turns, then less and less often, down to once
    in ``MAX_SKIPPED_TURNS``), so a chat platform that is down does not stop the timers
    and a token that stays wrong does not fill the log. A ``Supervised`` duty that stops
    on its own while this process leads (a gateway whose connection died for good) is
    noticed at the next turn, stopped, logged and started again the same way. ``sleep``
    waits between two attempts; tests pass one they release by hand.
    """

    def __init__(
        self,
        leadership: Leadership,
        repo: Repository,
        scheduler: Scheduler,
        duties: Mapping[str, Duty] | None = None,
        *,
        poll_seconds: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        state: RoleState | None = None,
    ) -> None:
        self._leadership = leadership
        self._repo = repo
        self._scheduler = scheduler
        self._duties: tuple[tuple[str, Duty], ...] = tuple((duties or {}).items())
        self._running: set[str] = set()  # the duties started (all but those failing to)
        self._failed: dict[str, int] = {}  # failures to start in a row, per duty
        self._skip: dict[str, int] = {}  # turns to let pass before the next attempt
        self._poll = poll_seconds
        self._sleep = sleep
        self._state = state  # what /readyz and the metrics read
        self._role = Role.FOLLOWER
        if state is not None:
            state.set(Role.FOLLOWER)
        self._watch: asyncio.Task[None] | None = None
        self._heard: set[asyncio.Task[None]] = set()
        self._turn = asyncio.Lock()  # one take-over or step-down at a time

    def _become(self, role: Role) -> None:
        self._role = role
        if self._state is not None:
            self._state.set(role)

    @property
    def role(self) -> Role:
        """``leader`` while this process runs the timers and maintenance, else ``follower``."""
        return self._role

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Try to lead once now (a failure to start a duty is raised), then keep trying."""
        if self._watch is not None:
            raise RuntimeError("succession is already started")
        self._leadership.listen(self._on_announce)
        await self._try_lead(raise_errors=True)
        if self._role is Role.FOLLOWER:
            log.info("another process leads: this one follows")
        self._watch = asyncio.create_task(self._keep_watch(), name="leadership")

    async def stop(self) -> None:
        """Stop the duties and hand the leadership over (another process takes it)."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        for task in list(self._heard):
            task.cancel()
        await asyncio.gather(*self._heard, return_exceptions=True)
        await self._step_down("this process is stopping", level=logging.INFO)
        await self._leadership.close()

    # --- CampaignWatcher -------------------------------------------------------------

    async def campaign_changed(self, campaign: Campaign) -> None:
        """The scheduler hears it here; the leader elsewhere hears it through the database."""
        await self._scheduler.campaign_changed(campaign)  # ignored unless leading here
        if self._role is Role.LEADER or campaign.id is None:
            return
        try:
            await self._leadership.announce(campaign.id)
        except Exception:  # the leader re-reads every campaign when it takes over anyway
            log.warning("campaign %s: telling the leader failed", campaign.ref, exc_info=True)

    # --- the watch -------------------------------------------------------------------

    async def _keep_watch(self) -> None:
        while True:
            await self._sleep(self._poll)
            try:
                if self._role is Role.LEADER:
                    if not await self._still_held():
                        await self._step_down("the leadership was lost")
                    else:
                        await self._retry_duties()
                else:
                    await self._try_lead(raise_errors=False)
            except Exception:  # the next turn tries again
                log.exception("the leadership check failed")

    async def _still_held(self) -> bool:
        try:
            return await self._leadership.held()
        except Exception:
            log.warning("checking the leadership failed", exc_info=True)
            return False

    async def _try_lead(self, *, raise_errors: bool) -> None:
        async with self._turn:
            if self._role is Role.LEADER:
                return
            try:
                acquired = await self._leadership.acquire()
            except Exception:
                if raise_errors:
                    raise
                log.warning("trying to take the leadership failed", exc_info=True)
                return
            if not acquired:
                return
            self._become(Role.LEADER)
            started: list[tuple[str, Duty]] = []
            try:
                await self._scheduler.start(takeover=not raise_errors)
                started.append(("scheduler", self._scheduler))
                if raise_errors:  # the process's start: a duty that cannot start is an error
                    for name, duty in self._duties:
                        try:
                            await duty.start()
                        except Exception as exc:
                            raise DutyError(f"the {name} failed to start: {exc}") from exc
                        started.append((name, duty))
                        self._running.add(name)
            except Exception:
                self._become(Role.FOLLOWER)
                self._running.clear()
                await self._stop_duties(started)
                await self._release()
                if raise_errors:
                    raise
                log.exception("taking over failed: the leadership is released")
                return
            if not raise_errors:  # a take-over: the timers run even if a chat platform is down
                await self._start_missing()
        log.info(
            "this process leads: scheduler started (timers armed from the database), %s",
            ", ".join(f"{name} started" for name, _ in self._duties if name in self._running)
            or "no other duty",
        )

    async def _start_missing(self) -> None:
        """Start each duty not running whose turn it is; one that fails is tried again."""
        for name, duty in self._duties:
            if name in self._running:
                continue
            if self._skip.get(name, 0) > 0:
                self._skip[name] -= 1
                continue
            try:
                await duty.start()
            except Exception:
                failed = self._failed[name] = self._failed.get(name, 0) + 1
                self._skip[name] = skipped_turns(failed)
                log.exception(
                    "the %s failed to start (%s in a row); tried again in %s s while this "
                    "process leads",
                    name,
                    failed,
                    self._poll * (self._skip[name] + 1),
                )
            else:
                self._running.add(name)
                self._failed.pop(name, None)
                self._skip.pop(name, None)

    async def _check_running(self) -> None:
        """Stop and forget each running duty that stopped on its own (started again by
        ``_start_missing``)."""
        for name, duty in self._duties:
            if name not in self._running or not isinstance(duty, Supervised):
                continue
            why = duty.failure()
            if why is None:
                continue
            log.error("the %s stopped on its own (%s): starting it again", name, why)
            self._running.discard(name)
            try:
                await duty.stop()
            except Exception:  # what is left of it: the start builds it anew
                log.exception("stopping the %s failed", name)

    async def _retry_duties(self) -> None:
        async with self._turn:
            if self._role is not Role.LEADER:
                return
            await self._check_running()
            if len(self._running) < len(self._duties):
                await self._start_missing()

    async def _step_down(self, why: str, *, level: int = logging.WARNING) -> None:
        async with self._turn:
            if self._role is Role.FOLLOWER:
                return
            self._become(Role.FOLLOWER)
            running = [(name, duty) for name, duty in self._duties if name in self._running]
            self._running.clear()
            self._failed.clear()
            self._skip.clear()
            await self._stop_duties([("scheduler", self._scheduler), *running])
            await self._release()
        log.log(level, "%s: this process no longer leads (timers and duties stopped)", why)

    async def _stop_duties(self, duties: list[tuple[str, Duty]]) -> None:
        for name, duty in reversed(duties):
            try:
                await duty.stop()
            except Exception:  # one failing must not keep the others running
                log.exception("stopping the %s failed", name)
            else:
                log.info("%s stopped", name)

    async def _release(self) -> None:
        try:
            await self._leadership.release()
        except Exception:
            log.warning("releasing the leadership failed", exc_info=True)

    # --- news from the followers -------------------------------------------------------

    def _on_announce(self, campaign_id: int) -> None:
        if self._role is not Role.LEADER:
            return
        task = asyncio.get_running_loop().create_task(
            self._rearm(campaign_id), name=f"announced:{campaign_id}"
        )
        self._heard.add(task)
        task.add_done_callback(self._heard.discard)

    async def _rearm(self, campaign_id: int) -> None:
        try:
            campaign = await self._repo.get_campaign(campaign_id)
            if campaign is not None and self._role is Role.LEADER:
                await self._scheduler.campaign_changed(campaign)
        except Exception:  # the next take-over re-reads it anyway
            log.exception("campaign %s: re-arming after a follower's change failed", campaign_id)
