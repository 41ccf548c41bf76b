"""The synchronised blast of one campaign, from the reminders to the final report.

``Blast`` is what the scheduler calls for each event; every method re-reads the
database first, so it is safe to call again after a crash or twice in a row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from bot.blast import heap, tap
from bot.blast.accounts import AccountSource, PreparedAccounts, lend, take_back
from bot.blast.auto import AutoSender, SendStats
from bot.blast.notices import send_each, tell_failed
from bot.blast.once import InFlight, claim_then_send
from bot.blast.plan import DeliveryPlan, plan_deliveries, sort_heads
from bot.blast.policy import BlastTuning
from bot.blast.prepare import chunks, load_accounts, load_stamps, prepare
from bot.blast.report import NOT_POSTED, Figures, figures_of, report_message
from bot.blast.results import tell_results
from bot.blast.writer import DeliveryWriter
from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign, CampaignStatus, LaunchDecision, transition
from bot.domain.cards import CampaignStats
from bot.domain.errors import StaleUpdate
from bot.domain.events import EventKind
from bot.domain.networks import Network
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus, change_status
from bot.domain.text import Text, t
from bot.metrics import Metrics
from bot.notifier import Notifier
from bot.ports import BlastQueue, Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.announcer import Announcer
from bot.services.card_updates import CardUpdater
from bot.services.cards import with_page_line
from bot.services.revocations import Revocations
from bot.services.tap_links import TapLinks
from bot.settings import Settings

log = logging.getLogger(__name__)

TALLY_EVERY = timedelta(seconds=5)  # the live tally edits each card at most this often


@dataclass
class BlastResult:
    """What one run of the blast did (for the benchmark and the logs)."""

    campaign_id: int
    started: float = 0.0  # monotonic
    networks: dict[Network, SendStats] = field(default_factory=dict)
    offered: int = 0

    @property
    def first_post(self) -> float | None:
        stamps = [s.first_post for s in self.networks.values() if s.first_post is not None]
        return min(stamps) if stamps else None

    @property
    def last_post(self) -> float | None:
        stamps = [s.last_post for s in self.networks.values() if s.last_post is not None]
        return max(stamps) if stamps else None


class Blast:
    """Runs each blast event of a campaign; built once by the composition root."""

    def __init__(
        self,
        *,
        repo: Repository,
        clock: Clock,
        notifier: Notifier,
        registry: NetworkRegistry,
        settings: Settings,
        cards: CardUpdater,
        tap_links: TapLinks,
        revocations: Revocations,
        announcer: Announcer,
        tuning: BlastTuning | None = None,
        metrics: Metrics | None = None,
        queue: BlastQueue | None = None,
    ) -> None:
        """``queue``: when shared (PostgreSQL), the auto posts of a launch go to batches
        every process's ``BlastWorker`` posts; else this process posts them itself."""
        self._repo = repo
        self._metrics = Metrics() if metrics is None else metrics
        self._queue = queue if queue is not None and queue.shared else None
        self._clock = clock
        self._notifier = notifier
        self._registry = registry
        self._settings = settings
        self._cards = cards
        self._tap_links = tap_links
        self._revocations = revocations
        self._announcer = announcer
        self._tuning = tuning or BlastTuning()
        self._prepared: dict[int, PreparedAccounts] = {}
        self._tallied: dict[int, datetime] = {}  # when each campaign's tally was last asked
        self._in_flight = InFlight()  # the report's claimed messages, let finish at a stop
        self.results: dict[int, BlastResult] = {}

    # --- before the launch -------------------------------------------------------

    async def remind(self, campaign: Campaign, event: str) -> None:
        """Announce the coming launch in promoted chats and to every supporter."""
        assert campaign.id is not None
        stats = await self._repo.campaign_stats(campaign.id)
        params = {"title": campaign.title, "launch_at": campaign.launch_at, "ref": campaign.ref}
        await self._announce(
            campaign,
            with_page_line(
                OutgoingMessage.of(
                    t(f"blast.{event}_chat", supporters=stats.supporters, **params)
                ),
                campaign,
                self._settings.public_url,
            ),
        )
        await self._tell_supporters(
            campaign, OutgoingMessage.of(t(f"blast.{event}_supporter", **params))
        )
        log.info("campaign %s: %s sent", campaign.ref, event)

    async def countdown(self, campaign: Campaign) -> None:
        """A countdown mark in the last hour: the cards show the minutes left."""
        assert campaign.id is not None
        await self._cards.refresh_now(campaign.id)

    async def prepare(self, campaign: Campaign) -> None:
        """Queue the pledges and refresh tokens ahead; keep the accounts for the launch."""
        assert campaign.id is not None
        repo, batch = self._repo, self._tuning.account_batch
        with heap.loading():
            pledges = await repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
            ids = {p.account_id for p in pledges}
            # markers first: an account changed while loading counts as changed at the launch
            stamps = await load_stamps(repo, ids, batch)
            accounts = await load_accounts(repo, ids, batch)
        await self._prepare(campaign, pledges, accounts)
        self._prepared[campaign.id] = PreparedAccounts(accounts, stamps)

    async def _prepare(
        self, campaign: Campaign, pledges: list[Pledge], accounts: dict[int, SocialAccount]
    ) -> set[int]:
        """Run the preparation on ``pledges``; return the ids it queued."""
        return await prepare(
            repo=self._repo,
            networks=self._registry.networks(),
            modes=self._registry.delivery_modes(),
            settings=self._settings,
            campaign=campaign,
            pledges=pledges,
            accounts=accounts,
            now=self._clock.now(),
            batch=self._tuning.mark_batch,
            refresh_concurrency=self._tuning.refresh_concurrency,
        )

    def forget(self, campaign_id: int) -> None:
        """Drop what the preparation kept for a campaign that will not launch."""
        self._prepared.pop(campaign_id, None)

    # --- the launch ----------------------------------------------------------------

    async def launch(self, campaign: Campaign, late: timedelta = timedelta(0)) -> Campaign:
        """LIVE → LAUNCHING with the goal decision stored in the same transaction, then
        deliver everything → LAUNCHED, or (goal missed) tell everyone → FAILED."""
        assert campaign.id is not None
        late_minutes = int(late.total_seconds() // 60)
        decided = await self._repo.decide_launch(
            campaign.id, self._clock.now(), late_minutes if late_minutes >= 1 else None
        )
        if decided is None or decided.status is not CampaignStatus.LAUNCHING:
            # cancelled (or launched) at the same moment: nothing to do
            log.info("campaign %s changed under the launch; skipping", campaign.ref)
            return decided or campaign
        log.info(
            "campaign %s launching (late %s min, goal %s)",
            decided.ref,
            late_minutes,
            decided.launch_decision,
        )
        return await self.deliver(decided)

    async def deliver(self, campaign: Campaign) -> Campaign:
        """Deliver every pledge still to deliver, then mark the campaign LAUNCHED.

        Only a campaign whose stored goal decision is MET delivers; with MISSED everyone
        is told and it ends FAILED. A LAUNCHING campaign without a decision (stored before
        decisions were) is decided first, through the same repository method as the
        launch. Also the resumption of a blast interrupted by a crash or an error
        (campaign LAUNCHING): on an error every request of this run is stopped before it
        propagates, so a run started after it never overlaps with this one.
        """
        assert campaign.id is not None
        if campaign.status is CampaignStatus.LAUNCHING and campaign.launch_decision is None:
            decided = await self._repo.decide_launch(campaign.id, self._clock.now())
            campaign = decided or campaign
        if campaign.status is not CampaignStatus.LAUNCHING:
            log.warning("campaign %s is %s: not delivered", campaign.ref, campaign.status)
            return campaign
        if campaign.launch_decision is not LaunchDecision.MET:
            return await self._goal_missed(campaign)
        result = BlastResult(campaign.id, started=time.monotonic())
        late = (self._clock.now() - campaign.launch_at).total_seconds()
        self.results[campaign.id] = result
        # one heap scope from the blast through its report (``report``): entering one
        # from none walks every frozen object (gc.get_freeze_count, ~20 ms of one turn)
        with heap.blast_heap():
            senders = await self._deliver(campaign, result)
            self._measure(result, senders, late)
            launched = await self._set_status(campaign, CampaignStatus.LAUNCHED)
            log.info(
                "campaign %s launched: %s",
                launched.ref,
                {str(n): (s.posted, s.failed) for n, s in result.networks.items()},
            )
            refusals = {i: r for sender in senders for i, r in sender.refusals.items()}
            if launched.tap_offered:  # the report waits for the taps
                await self._cards.refresh_now(campaign.id)
                await self._tell_failed(launched, refusals)
            else:
                await self.report(launched, refusals)
        return launched

    async def _deliver(self, campaign: Campaign, result: BlastResult) -> list[AutoSender]:
        """The blast itself: every auto post and tap offer of ``campaign``."""
        assert campaign.id is not None
        # accounts are fetched batch by batch as the senders go, except those of pledges
        # that arrived since the preparation, which the preparation needs now
        source = AccountSource(self._repo, self._prepared.pop(campaign.id, None))
        with heap.loading():
            pledges = await self._load_to_plan(campaign.id, source)
        waiting = [p for p in pledges if p.delivery is DeliveryState.WAITING]
        queued: set[int] = set()
        if waiting:
            accounts = await source.get([p.account_id for p in waiting])
            queued = await self._prepare(campaign, waiting, accounts)
            source.keep(accounts)
        log.info(
            "campaign %s: %s pledges planned here (the shared ones aside) in %.3f s",
            campaign.ref,
            len(pledges),
            time.monotonic() - result.started,
        )
        plan = plan_deliveries(
            pledges,
            queued=queued,
            networks=self._registry.networks(),
            modes=self._registry.delivery_modes(),
            now=self._clock.now(),
        )
        for part in chunks(plan.stranded, self._tuning.flush_every):
            await self._repo.record_deliveries(part)
        has_tap = plan.has_tap or any(p.delivery is DeliveryState.TAP_OFFERED for p in pledges)
        if has_tap and not campaign.tap_offered:
            campaign = await self._repo.update_campaign(replace(campaign, tap_offered=True))
        prepared_now = bool(waiting)
        del pledges, waiting  # the plan's lists hold what is left to send, and shrink
        if self._queue is not None:  # the workers of every process post them
            await self._split(campaign.id, plan, source, reread=prepared_now)
        deadline = time.monotonic() + self._settings.blast_retry_window_seconds
        # "launching", and Post now once links go out: no pledge changed yet
        self._cards.request(campaign.id, changed=False)
        async with DeliveryWriter(
            self._repo,
            flush_every=self._tuning.flush_every,
            flush_seconds=self._tuning.flush_seconds,
            on_written=lambda: self._tally(campaign.id or 0),
        ) as writer:
            senders = {
                network: AutoSender(
                    repo=self._repo,
                    network=self._registry.networks()[network],
                    recovery=self._registry.recovery(network),
                    clock=self._clock,
                    writer=writer,
                    campaign=campaign,
                    since=campaign.launch_at,
                    concurrency=self._settings.blast_concurrency,
                    deadline=deadline,
                    tuning=self._tuning,
                )
                for network in plan.auto_networks
            }
            result.networks = {network: sender.stats for network, sender in senders.items()}
            async with asyncio.TaskGroup() as blast:  # one fails: the others are stopped
                offers = blast.create_task(
                    tap.offer(
                        repo=self._repo,
                        notifier=self._notifier,
                        registry=self._registry,
                        writer=writer,
                        links=self._tap_links,
                        campaign=campaign,
                        accounts=source,
                        queued=plan.tap_queued,
                        sending=plan.tap_sending,
                        batch=self._tuning.mark_batch,
                        concurrency=self._tuning.tap_concurrency,
                        now=self._clock.now(),
                    )
                )
                for network, sender in senders.items():
                    blast.create_task(
                        sender.run(
                            plan.auto_queued.get(network, []),
                            plan.auto_sending.get(network, []),
                            source,
                        )
                    )
            result.offered = offers.result()
        await self._batches_done(campaign.id)
        self._tallied.pop(campaign.id, None)
        return list(senders.values())

    def _measure(self, result: BlastResult, senders: list[AutoSender], late: float) -> None:
        """Add a finished blast to the metrics, once (nothing is counted per post)."""
        for sender in senders:
            outcomes = {"posted": sender.stats.posted, **sender.failures}
            self._metrics.posts(str(sender.network_id), outcomes)
        first = result.first_post
        self._metrics.blast_finished(
            time.monotonic() - result.started,
            late + (first - result.started if first is not None else 0.0),
        )

    async def _split(
        self, campaign_id: int, plan: DeliveryPlan, source: AccountSource, *, reread: bool
    ) -> None:
        """Hand the auto pledges still to post to the shared queue; the senders of this
        run get none, and this process's worker borrows ``source`` (the accounts the
        preparation read and decrypted) rather than load them again.

        The plan's pledges are split first, so posting starts at once; the split adds
        only those in no batch yet. Only pledges moved out of WAITING can be missing
        from the plan (another process running the same launch, a resumed one or two
        before leader election, may have queued them after this one read them): if this
        run found pledges WAITING, they are read again and the split takes what it lacks.
        """
        assert self._queue is not None
        lend(self._queue, campaign_id, source)
        ids = sorted(
            p.id
            for part in (plan.auto_sending, plan.auto_queued)
            for pledges in part.values()
            for p in pledges
            if p.id is not None
        )
        plan.auto_queued.clear()
        plan.auto_sending.clear()
        made = await self._queue.split(campaign_id, ids, self._tuning.mark_batch)
        if reread:
            made += await self._queue.split(
                campaign_id, await self._to_post(campaign_id), self._tuning.mark_batch
            )
        log.info("campaign %s: %s to post, %s new shared batches", campaign_id, len(ids), made)

    async def _to_post(self, campaign_id: int) -> list[int]:
        """The auto pledges of the campaign queued or caught mid-request, as stored now."""
        return (await self._sorted_heads(campaign_id))[0]

    async def _sorted_heads(self, campaign_id: int) -> tuple[list[int], list[int]]:
        """The PLEDGED pledges' ids: those the workers post as they are, and the rest."""
        return sort_heads(
            await self._repo.delivery_heads(campaign_id),
            networks=self._registry.networks(),
            modes=self._registry.delivery_modes(),
        )

    async def _load_to_plan(self, campaign_id: int, source: AccountSource) -> list[Pledge]:
        """The PLEDGED pledges this run plans. With the shared queue, those ready to post
        go to the workers first, by id (a narrow read: no pledge is loaded, so the first
        post does not wait for 100,000 rows to be built); only the rest are loaded."""
        if self._queue is None:
            return await self._repo.pledges_of_campaign(campaign_id, [PledgeStatus.PLEDGED])
        shared, rest = await self._sorted_heads(campaign_id)
        if shared:
            lend(self._queue, campaign_id, source)
            made = await self._queue.split(campaign_id, shared, self._tuning.mark_batch)
            log.info("campaign %s: %s to post, %s shared batches", campaign_id, len(shared), made)
        found = await self._repo.get_pledges(rest) if rest else []
        return [p for p in found if p.status is PledgeStatus.PLEDGED]  # none withdrawn since

    async def _batches_done(self, campaign_id: int) -> None:
        """Wait until every shared batch of the campaign is done (workers of any process
        post them; one whose process died is taken over when its lease runs out)."""
        if self._queue is None:
            return
        while await self._queue.unfinished(campaign_id):
            self._tally(campaign_id)
            await asyncio.sleep(self._tuning.poll_seconds)
        take_back(self._queue, campaign_id)

    def _tally(self, campaign_id: int) -> None:
        """Results were stored: refresh the cards' tally, at most every TALLY_EVERY (the
        card updater merges the requests in between), so the chat platforms' edit limits
        hold even for a long blast."""
        now = self._clock.now()
        last = self._tallied.get(campaign_id)
        if last is not None and now - last < TALLY_EVERY:
            return
        self._tallied[campaign_id] = now
        self._cards.request(campaign_id, changed=False)

    async def _set_status(self, campaign: Campaign, status: CampaignStatus) -> Campaign:
        """Move to ``status`` from the stored version (the blast may have set tap_offered)."""
        assert campaign.id is not None
        for _ in range(3):
            stored = await self._repo.get_campaign(campaign.id)
            assert stored is not None
            if stored.status is status:
                return stored
            try:
                return await self._repo.update_campaign(
                    transition(stored, status, at=self._clock.now())
                )
            except StaleUpdate:
                continue
        raise StaleUpdate()

    async def _goal_missed(self, campaign: Campaign) -> Campaign:
        """Tell everyone, then LAUNCHING → FAILED: a run stopped in between is resumed
        (the campaign is still LAUNCHING) and tells them then; nothing is posted."""
        supporters = campaign.launch_supporters or 0
        params = {"title": campaign.title, "supporters": supporters, "goal": campaign.goal}
        await self._tell_everyone(
            campaign,
            organiser=t("blast.goal_missed_organiser", **params),
            supporter=t("blast.goal_missed_supporter", **params),
            chat=t("blast.goal_missed_chat", **params),
        )
        failed = await self._set_status(campaign, CampaignStatus.FAILED)
        log.info("campaign %s failed: %s of %s supporters", failed.ref, supporters, failed.goal)
        await self._cards.refresh_now(campaign.id or 0)
        await self._release_tokens(failed)
        return failed

    async def fail_missed(self, campaign: Campaign, late: timedelta) -> Campaign:
        """The launch moment passed too long ago (the bot was down): FAILED, and say so."""
        failed = await self._repo.update_campaign(
            transition(campaign, CampaignStatus.FAILED, at=self._clock.now())
        )
        params = {
            "title": failed.title,
            "launch_at": failed.launch_at,
            "minutes": int(late.total_seconds() // 60),
        }
        log.warning("campaign %s missed its launch by %s", failed.ref, late)
        await self._tell_everyone(
            failed,
            organiser=t("blast.missed_organiser", **params),
            supporter=t("blast.missed_supporter", **params),
            chat=t("blast.missed_chat", **params),
        )
        await self._cards.refresh_now(failed.id or 0)
        await self._release_tokens(failed)
        return failed

    async def _release_tokens(self, campaign: Campaign) -> None:
        """The campaign is over without a report: its supporters' tokens are not needed
        for it any more (those another campaign needs are kept)."""
        assert campaign.id is not None
        pledges = await self._repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
        await self._revocations.queue_unused({p.account_id for p in pledges})

    # --- after the launch ----------------------------------------------------------

    async def _offered(self, campaign: Campaign) -> list[tuple[Pledge, SocialAccount]]:
        assert campaign.id is not None
        pledges = [
            p
            for p in await self._repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
            if p.delivery is DeliveryState.TAP_OFFERED
        ]
        accounts = await load_accounts(
            self._repo, [p.account_id for p in pledges], self._tuning.account_batch
        )
        return [(p, accounts[p.account_id]) for p in pledges if p.account_id in accounts]

    async def _read_back(
        self, campaign: Campaign
    ) -> tuple[int, list[tuple[Pledge, SocialAccount]]]:
        """Confirm who posted; return how many were confirmed, and those still pending."""
        offered = await self._offered(campaign)
        if not offered:
            return 0, []
        confirmed = await tap.read_back(
            repo=self._repo,
            networks=self._registry.networks(),
            campaign=campaign,
            offered=offered,
            concurrency=self._tuning.read_concurrency,
        )
        done = {p.id for p in confirmed}
        return len(done), [(p, a) for p, a in offered if p.id not in done]

    async def tap_reminder(self, campaign: Campaign) -> int:
        """Nudge the supporters offered a link whose post has not been seen yet."""
        assert campaign.id is not None
        if not campaign.tap_offered:
            return 0  # nobody was offered a link
        confirmed, pending = await self._read_back(campaign)
        if confirmed:
            self._cards.request(campaign.id)  # they count as posted now
        return await tap.remind(
            notifier=self._notifier,
            registry=self._registry,
            links=self._tap_links,
            campaign=campaign,
            pending=pending,
            concurrency=self._tuning.tap_concurrency,
        )

    async def report(self, campaign: Campaign, refusals: Mapping[int, str] | None = None) -> None:
        """Final read-back, close the unconfirmed taps, and tell everyone the figures.

        Resumable, each effect at most once: a run stopped anywhere (SIGTERM, the
        leadership lost, an error, a crash) leaves the report to the next one, which
        picks it up where it stopped (the scheduler runs it again until it is done):

        1. supporters whose post failed for good are told (once per campaign, unless
           they were already, after a tap blast or by a run stopped before its report);
        2. the last read-back, and the taps never confirmed closed as not posted; then
           ``REPORT`` is claimed: the figures are final (Post now closes, the tokens are
           no longer in use). A run after it skips this step;
        3. the organiser's report (``REPORT_ORGANISER``) and each promoted chat's
           (``REPORT_CHAT``, per chat), each claimed, then sent (``bot.blast.once``: at
           most once, a stop does not cut a claimed message off);
        4. the cards refreshed (an edit to the current state: any number of times);
        5. each supporter's own result, claimed per person (``bot.blast.results``);
        6. the tokens nothing needs any more released (only tokens still stored are,
           so again is harmless); then ``REPORT_DONE`` is claimed, last.

        The figures are computed from the pledge rows each time, so a resumed run's are
        those a single run would have had (the taps are closed by then).

        The whole report counts as part of the blast for the collector (``heap``): the
        pledges it loads are frozen, not left for the next collections to walk (a young
        and then a middle collection of 14-17 ms each, in the first second of telling,
        that every reply waiting meanwhile waited out), and the thaw comes a minute after
        the report rather than in the middle of it.
        """
        with heap.blast_heap():
            await self._report(campaign, refusals)

    async def _report(self, campaign: Campaign, refusals: Mapping[int, str] | None) -> None:
        assert campaign.id is not None
        if await self._repo.event_claimed(campaign.id, EventKind.REPORT_DONE):
            return
        await self._batches_done(campaign.id)  # the figures count every batch
        await self._tell_failed(campaign, refusals or {})
        if await self._repo.event_claimed(campaign.id, EventKind.REPORT):
            log.info("campaign %s: finishing a report begun before", campaign.ref)
        else:
            await self._close_taps(campaign)
            await self._repo.claim_event(campaign.id, EventKind.REPORT, self._clock.now())
        with heap.loading():
            pledges = await self._repo.pledges_of_campaign(campaign.id)
        stats = await self._repo.campaign_stats(campaign.id)
        message, figures = await self._report_message(campaign, pledges, stats)
        await self._tell_report(campaign, message)
        await self._cards.refresh_now(campaign.id)
        await self._tell_results(campaign, pledges, stats)
        account_ids = {p.account_id for p in pledges}
        del pledges
        await self._revocations.queue_unused(account_ids)  # those with no other campaign
        if await self._repo.claim_event(campaign.id, EventKind.REPORT_DONE, self._clock.now()):
            log.info(
                "campaign %s report: posted %s, confirmed %s, not posted %s, failed %s",
                campaign.ref,
                figures.posted,
                figures.confirmed,
                figures.not_posted,
                figures.failed,
            )

    async def _close_taps(self, campaign: Campaign) -> None:
        """The last read-back; the tap pledges still unconfirmed fail as not posted."""
        _, pending = await self._read_back(campaign)  # the cards are refreshed later
        now = self._clock.now()
        closed = [
            change_status(p, PledgeStatus.FAILED, at=now, reason=NOT_POSTED) for p, _ in pending
        ]
        for part in chunks(closed, self._tuning.flush_every):
            await self._repo.record_deliveries(part)

    async def _report_message(
        self, campaign: Campaign, pledges: list[Pledge], stats: CampaignStats
    ) -> tuple[OutgoingMessage, Figures]:
        """The report, from the rows as they are (the same in a resumed run)."""
        assert campaign.id is not None
        unreachable = await self._repo.event_subjects(campaign.id, EventKind.TAP_UNREACHABLE)
        figures = figures_of(
            campaign, pledges, stats, self._registry.delivery_modes(), unreachable
        )
        if figures.tap:
            opened = await self._repo.count_events(campaign.id, EventKind.TAP_OPENED)
            post_now = await self._repo.count_events(campaign.id, EventKind.POST_NOW)
            figures = replace(figures, opened=opened, post_now=post_now)
        message = with_page_line(
            report_message(campaign, figures), campaign, self._settings.public_url
        )
        return message, figures

    async def _tell_report(self, campaign: Campaign, message: OutgoingMessage) -> None:
        """The report to the organiser, then to each promoted chat: each claimed, then
        sent, as one unit a stop lets finish (``bot.blast.once``)."""
        assert campaign.id is not None
        campaign_id, now = campaign.id, self._clock.now()

        await self._in_flight.run(
            claim_then_send(
                lambda: self._repo.claim_event(campaign_id, EventKind.REPORT_ORGANISER, now),
                lambda: self._notifier.send_to_user(campaign.organiser, message),
                f"campaign {campaign.ref}: the report to the organiser",
            )
        )
        for card_id, where, language in await self._announcer.promoted(campaign_id):
            await self._in_flight.run(
                claim_then_send(
                    partial(
                        self._repo.claim_event,
                        campaign_id,
                        EventKind.REPORT_CHAT,
                        now,
                        subject=card_id,
                    ),
                    partial(self._notifier.send, where, message, language),
                    f"campaign {campaign.ref}: the report to chat {where.platform}:{where.id}",
                )
            )

    async def settle(self) -> None:
        """Wait for the claimed messages on their way (the scheduler's stop)."""
        await self._in_flight.settle()

    async def _tell_results(
        self,
        campaign: Campaign,
        pledges: list[Pledge] | None = None,
        stats: CampaignStats | None = None,
    ) -> None:
        """Each supporter's own result and the totals (``bot.blast.results``)."""
        assert campaign.id is not None
        if pledges is None:
            pledges = await self._repo.pledges_of_campaign(campaign.id)
        if stats is None:
            stats = await self._repo.campaign_stats(campaign.id)
        await tell_results(
            repo=self._repo,
            notifier=self._notifier,
            campaign=campaign,
            pledges=pledges,
            stats=stats,
            modes=self._registry.delivery_modes(),
            now=self._clock.now(),
            concurrency=self._tuning.tap_concurrency,
            in_flight=self._in_flight,
        )

    async def _tell_failed(self, campaign: Campaign, refusals: Mapping[int, str]) -> None:
        """Each failure notice is claimed, then sent, as a unit a stop lets finish
        (``bot.blast.once``); the next run sends those a cut-off run did not claim."""
        await tell_failed(
            repo=self._repo,
            notifier=self._notifier,
            registry=self._registry,
            campaign=campaign,
            refusals=refusals,
            now=self._clock.now(),
            batch=self._tuning.account_batch,
            concurrency=self._tuning.tap_concurrency,
            in_flight=self._in_flight,
        )

    # --- telling people -----------------------------------------------------------

    async def _announce(self, campaign: Campaign, message: OutgoingMessage) -> None:
        assert campaign.id is not None
        await self._announcer.announce(campaign.id, message)

    async def _tell_supporters(self, campaign: Campaign, message: OutgoingMessage) -> None:
        assert campaign.id is not None
        pledges = await self._repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
        people = {p.supporter.key: p.supporter for p in pledges}
        await send_each(
            self._notifier,
            ((person, message) for person in people.values()),
            self._tuning.tap_concurrency,
        )

    async def _tell_everyone(
        self, campaign: Campaign, *, organiser: Text, supporter: Text, chat: Text
    ) -> None:
        assert campaign.id is not None
        await self._notifier.send_to_user(campaign.organiser, OutgoingMessage.of(organiser))
        await self._tell_supporters(campaign, OutgoingMessage.of(supporter))
        await self._announce(
            campaign,
            with_page_line(OutgoingMessage.of(chat), campaign, self._settings.public_url),
        )
