"""The launch scheduler: turns each live campaign's moments into timers, runs them once.

A campaign still waiting for moderation has one timer too: it expires at its launch moment.

APScheduler (AsyncIOScheduler, in-memory job store) only holds timers; the database is
the source of truth. On start, and whenever ``sync`` is called, the timers are rebuilt
from the campaigns table and events whose moment has passed are run (or skipped, for a
reminder that would come late). Each event is claimed in the database before it runs,
and the launch is guarded by the campaign's status, so nothing runs twice. A launch run
stopped by an error (the database, say) is run again after a backoff, a bounded number
of times; the blast resumes where it stopped, so a retry never posts anything twice, and
obeys the goal decision stored with LAUNCHING, so a retry never posts a missed goal.
Likewise the report: one begun and not finished (``REPORT_DONE`` not claimed) is run
again at once by the next sync, start or take-over, and goes on from the step it
stopped at (``Blast.report``).

Stopping (SIGTERM, the leadership lost) cancels the runs under way; a message to a
person already claimed is let finish first (``Blast.settle``, ``bot.blast.once``), so
the cancellation lands between two steps and the next run does the rest, once.

The moments are read on the given clock, which may be fake (tests) or shifted (the
console), so each timer is armed at real-now plus the delay left on that clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.blast import Blast, BlastTuning
from bot.domain.campaign import AWAITING_REVIEW, Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.ports import Clock, Repository
from bot.scheduler.events import (
    AFTER_LAUNCH,
    CLAIMED,
    COUNTDOWNS,
    DROPPED_STATUSES,
    REMINDER_TOLERANCE,
    REMINDERS,
    SCHEDULED_STATUSES,
    TAG_COUNT_TOLERANCE,
    Event,
    events_for,
    job_id,
    moments,
)
from bot.services.expiry import Expiry
from bot.services.trend import TrendCount
from bot.settings import Settings

log = logging.getLogger(__name__)


class LaunchScheduler:
    """Implements ``CampaignWatcher``: the campaign service is built with it.

    Until ``start`` it ignores the changes it hears (``start`` reads the database anyway).
    """

    def __init__(
        self,
        *,
        repo: Repository,
        clock: Clock,
        settings: Settings,
        blast: Blast,
        expiry: Expiry,
        tuning: BlastTuning,
        trend: TrendCount | None = None,
    ) -> None:
        """``trend`` counts the hashtag an hour after the launch (None: no count)."""
        self._repo = repo
        self._trend = trend
        self._clock = clock
        self._settings = settings
        self.blast = blast
        self._expiry = expiry
        self._tuning = tuning  # its launch retries
        self._timers = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = False

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, *, takeover: bool = False) -> None:
        """Arm every future event from the database and deal with the missed ones.

        Missed events (an interrupted blast, a launch within grace) start in the
        background, so the rest of the process is not held up; ``wait_idle`` waits.
        At a process's start a reminder already due is skipped; at a ``takeover`` (another
        process led until seconds ago) it still goes within the usual tolerance.
        """
        if not self._timers.running:
            self._timers.start()
        self._stopped = False
        await self._sync(startup=not takeover, wait=False)

    async def stop(self) -> None:
        """Stop the timers; a blast or report in progress is interrupted and resumed on
        next start (here or, having lost the leadership, in the process that takes it
        over). The messages already claimed and on their way are let arrive first."""
        if self._timers.running and not self._stopped:
            self._timers.remove_all_jobs()  # a later start re-arms from the database
            self._timers.shutdown(wait=False)
        self._stopped = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.blast.settle()

    async def sync(self) -> None:
        """Re-read the database, run every event now due, re-arm the rest."""
        await self._sync(startup=False, wait=True)

    async def wait_idle(self) -> None:
        """Wait until every running event (and blast) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def armed(self) -> dict[str, datetime]:
        """Job id → real moment of every armed timer (for tests and the console)."""
        return {job.id: job.next_run_time for job in self._timers.get_jobs()}

    # --- CampaignWatcher -------------------------------------------------------------

    async def campaign_changed(self, campaign: Campaign) -> None:
        assert campaign.id is not None
        if not self._timers.running or self._stopped:
            return  # not started (or stopped): ``start`` reads every campaign afresh
        if campaign.status in DROPPED_STATUSES:
            self._drop(campaign.id)
        elif campaign.status in SCHEDULED_STATUSES:
            due = self._arm(campaign)
            if due:
                self._spawn(campaign.id, due, startup=False)

    # --- arming ----------------------------------------------------------------------

    async def _sync(self, *, startup: bool, wait: bool) -> None:
        campaigns = await self._repo.campaigns_in(SCHEDULED_STATUSES)
        runs = []
        for campaign in campaigns:
            assert campaign.id is not None
            if await self._finished(campaign):
                self._drop(campaign.id)
                continue
            due = self._arm(campaign)
            await self._keep_only_the_count(campaign)
            if campaign.status is CampaignStatus.LAUNCHING and Event.LAUNCH not in due:
                due.insert(0, Event.LAUNCH)  # an interrupted blast: resume it now
            if Event.REPORT not in due and await self._report_due(campaign):
                due.append(Event.REPORT)  # an interrupted report: finish it now
            if due:
                runs.append(self._spawn(campaign.id, due, startup=startup))
        if wait:
            await asyncio.gather(*runs, return_exceptions=True)

    def _arm(self, campaign: Campaign) -> list[Event]:
        """Arm the future events of ``campaign``; return the due ones, in order."""
        assert campaign.id is not None
        now = self._clock.now()
        real_now = datetime.now(UTC)
        wanted = events_for(campaign.status)
        due: list[Event] = []
        for event, moment in moments(campaign, self._settings).items():
            if event not in wanted:
                self._remove(job_id(campaign.id, event))
            elif moment <= now:
                self._remove(job_id(campaign.id, event))
                due.append(event)
            else:
                self._timers.add_job(
                    self._fire,
                    DateTrigger(run_date=real_now + (moment - now), timezone=UTC),
                    args=[campaign.id, event.value],
                    id=job_id(campaign.id, event),
                    replace_existing=True,
                )
        return due

    def _drop(self, campaign_id: int) -> None:
        for event in Event:
            self._remove(job_id(campaign_id, event))
        self.blast.forget(campaign_id)

    async def _finished(self, campaign: Campaign) -> bool:
        """Whether ``campaign`` has no event left: dropped, or launched and reported."""
        assert campaign.id is not None
        if campaign.status in DROPPED_STATUSES:
            return True
        if campaign.status is not CampaignStatus.LAUNCHED:
            return False
        if not await self._repo.event_claimed(campaign.id, EventKind.REPORT_DONE):
            return False
        return self._trend is None or await self._repo.event_claimed(
            campaign.id, EventKind.TAG_COUNT
        )

    async def _keep_only_the_count(self, campaign: Campaign) -> None:
        """Once reported, a launched campaign's one timer left is the hashtag count."""
        assert campaign.id is not None
        if campaign.status is CampaignStatus.LAUNCHED and await self._repo.event_claimed(
            campaign.id, EventKind.REPORT_DONE
        ):
            for event in AFTER_LAUNCH - {Event.TAG_COUNT}:
                self._remove(job_id(campaign.id, event))

    async def _report_due(self, campaign: Campaign) -> bool:
        """Whether a launched campaign's report is to run now, whatever its moment: a
        blast without taps reports as it ends, and a report whose taps were closed
        (``REPORT`` claimed) was begun; either way, unless it is done."""
        assert campaign.id is not None
        if campaign.status is not CampaignStatus.LAUNCHED:
            return False
        if await self._repo.event_claimed(campaign.id, EventKind.REPORT_DONE):
            return False
        return not campaign.tap_offered or await self._repo.event_claimed(
            campaign.id, EventKind.REPORT
        )

    def _remove(self, job: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._timers.remove_job(job)

    # --- running ---------------------------------------------------------------------

    async def _fire(self, campaign_id: int, event: str) -> None:
        """A timer went off (APScheduler calls this with ids only). The run goes on in a
        task of its own, which ``stop`` cancels (APScheduler's own cancelling of a job
        still running at its shutdown would otherwise be logged as the job's error)."""
        self._spawn(campaign_id, [Event(event)], startup=False)

    def _spawn(
        self,
        campaign_id: int,
        events: Iterable[Event],
        *,
        startup: bool,
        attempt: int = 0,
        delay: float = 0.0,
    ) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(
            self._run(campaign_id, list(events), startup=startup, attempt=attempt, delay=delay),
            name=f"campaign:{campaign_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(
        self, campaign_id: int, events: list[Event], *, startup: bool, attempt: int, delay: float
    ) -> None:
        """Run ``events`` in order under the campaign's lock; ``attempt``: launch retries."""
        if delay:
            await asyncio.sleep(delay)
        lock = self._locks.setdefault(campaign_id, asyncio.Lock())
        async with lock:
            for index, event in enumerate(events):
                try:
                    campaign = await self._repo.get_campaign(campaign_id)
                    if campaign is None:
                        return
                    if campaign.status in DROPPED_STATUSES:
                        self._drop(campaign_id)
                        return
                    await self._dispatch(campaign, event, startup=startup)
                except Exception:
                    if event is not Event.LAUNCH:
                        log.exception("campaign %s: event %s failed", campaign_id, event)
                        continue
                    self._retry_launch(campaign_id, events[index:], startup, attempt)
                    return  # what follows the launch waits for it
            try:  # no timer left behind once the campaign is over
                campaign = await self._repo.get_campaign(campaign_id)
                if campaign is not None and await self._finished(campaign):
                    self._drop(campaign_id)
                elif campaign is not None:
                    await self._keep_only_the_count(campaign)
            except Exception:  # only tidying up: the next sync does it again
                log.warning("campaign %s: dropping its timers failed", campaign_id, exc_info=True)

    def _retry_launch(
        self, campaign_id: int, events: list[Event], startup: bool, attempt: int
    ) -> None:
        """Log the launch's error and run it again later, unless retries are used up."""
        retries = self._tuning.launch_retries
        if attempt >= retries or self._stopped:
            log.exception(
                "campaign %s: the launch stopped on an error %s times; the next sync or "
                "restart resumes it",
                campaign_id,
                attempt + 1,
            )
            return
        delay = self._tuning.launch_retry.backoff(attempt + 1)
        log.warning(
            "campaign %s: the launch stopped on an error; retry %s of %s in %.1f s",
            campaign_id,
            attempt + 1,
            retries,
            delay,
            exc_info=True,
        )
        self._spawn(campaign_id, events, startup=startup, attempt=attempt + 1, delay=delay)

    async def _dispatch(self, campaign: Campaign, event: Event, *, startup: bool) -> None:
        assert campaign.id is not None
        now = self._clock.now()
        table = moments(campaign, self._settings)
        moment = table[event]
        status = campaign.status
        if event in REMINDERS:
            late = now - moment
            tolerance = timedelta(0) if startup else REMINDER_TOLERANCE
            if status is not CampaignStatus.LIVE or now >= campaign.launch_at:
                return
            if late > tolerance:
                log.info("campaign %s: %s skipped (%s late)", campaign.ref, event, late)
                return
            if await self._repo.claim_event(campaign.id, CLAIMED[event], now):
                await self.blast.remind(campaign, event.value)
        elif event in COUNTDOWNS:
            await self._countdown(campaign, event, now)
        elif event is Event.PREPARE:
            if (
                status is CampaignStatus.LIVE
                and now < campaign.launch_at
                and await self._repo.claim_event(campaign.id, CLAIMED[event], now)
            ):
                await self.blast.prepare(campaign)
        elif event is Event.LAUNCH:
            await self._launch(campaign, now)
        elif event is Event.TAP_REMINDER:
            if (
                status is CampaignStatus.LAUNCHED
                and now < table[Event.REPORT]
                and await self._repo.claim_event(campaign.id, CLAIMED[event], now)
            ):
                await self.blast.tap_reminder(campaign)
        elif event is Event.REPORT and status is CampaignStatus.LAUNCHED:
            await self.blast.report(campaign)
        elif event is Event.TAG_COUNT:
            await self._count_tag(campaign, now - moment)
        elif (
            event is Event.EXPIRE
            and status in AWAITING_REVIEW
            and await self._expiry.expire(campaign.id) is not None
        ):
            self._drop(campaign.id)  # no watcher is told: this is the watcher

    async def _countdown(self, campaign: Campaign, event: Event, now: datetime) -> None:
        """Edit the cards at a countdown mark, once; a mark already overtaken by a later one
        (after a restart, several come due at once) leaves the edit to that one."""
        assert campaign.id is not None
        minutes = COUNTDOWNS[event]
        if campaign.status is not CampaignStatus.LIVE or now >= campaign.launch_at:
            return
        if any(
            now >= campaign.launch_at - timedelta(minutes=later)
            for later in COUNTDOWNS.values()
            if later < minutes
        ):
            return
        if await self._repo.claim_event(campaign.id, EventKind.COUNTDOWN, now, subject=minutes):
            await self.blast.countdown(campaign)

    async def _count_tag(self, campaign: Campaign, late: timedelta) -> None:
        """Once per campaign, launched (or still sending); a count found too late is
        claimed and skipped, so a restart days later sends no stale figures."""
        assert campaign.id is not None
        if self._trend is None or campaign.status not in (
            CampaignStatus.LAUNCHING,
            CampaignStatus.LAUNCHED,
        ):
            return
        if not await self._repo.claim_event(campaign.id, EventKind.TAG_COUNT, self._clock.now()):
            return
        if late > TAG_COUNT_TOLERANCE:
            log.info("campaign %s: hashtag count skipped (%s late)", campaign.ref, late)
            return
        await self._trend.run(campaign)

    async def _launch(self, campaign: Campaign, now: datetime) -> None:
        if campaign.status is CampaignStatus.LAUNCHING:  # deliver obeys its goal decision
            log.info("campaign %s: resuming an interrupted blast", campaign.ref)
            await self.blast.deliver(campaign)
            return
        if await self._report_due(campaign):  # a retry of a launch its report stopped
            await self.blast.report(campaign)
            return
        if campaign.status is not CampaignStatus.LIVE:
            return
        late = now - campaign.launch_at
        grace = timedelta(minutes=self._settings.launch_grace_minutes)
        if late > grace:
            await self.blast.fail_missed(campaign, late)
        else:
            await self.blast.launch(campaign, late)
