"""The figures cache alone: one computation for concurrent callers, reuse for a moment
(a fake clock says when), the last figures shown while one refresh runs, and nothing
computed before ``forget`` shown after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.cards import CampaignStats
from bot.domain.recruits import Recruiter
from bot.services.figures import FiguresCache

CAMPAIGN = 7


class Aggregates:
    """The one read the cache makes; ``supporters`` is what the next computation
    counts, ``gate`` (when set) holds every computation until it is opened."""

    def __init__(self) -> None:
        self.supporters = 1
        self.computed = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def shown_figures(
        self, campaign_id: int, posts: int
    ) -> tuple[CampaignStats, list[Recruiter], dict[str, str], list[str]]:
        self.computed += 1
        counted = self.supporters
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("database down")
        recruiters = [Recruiter("test:1", 2, datetime(2026, 1, 1, tzinfo=UTC))]
        links = ["https://mastodon.example/1", "https://mastodon.example/2"]
        return CampaignStats(supporters=counted), recruiters, {"test:1": "Ann"}, links[:posts]


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def rows() -> Aggregates:
    return Aggregates()


@pytest.fixture
def now() -> Clock:
    return Clock()


def cache(rows: Aggregates, now: Clock, stale: float = 1.0) -> FiguresCache:
    return FiguresCache(rows, fresh_seconds=1.0, stale_seconds=stale, now=now)  # type: ignore[arg-type]


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_callers_share_one_computation(rows: Aggregates, now: Clock) -> None:
    figures = cache(rows, now)
    rows.gate = asyncio.Event()
    callers = [asyncio.create_task(figures.shown(CAMPAIGN)) for _ in range(50)]
    await settle()
    rows.gate.set()

    shown = await asyncio.gather(*callers)

    assert rows.computed == 1
    assert {s.stats.supporters for s in shown} == {1}


async def test_figures_are_reused_within_the_window_and_recomputed_after(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now)
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 1
    rows.supporters = 2

    now.seconds += 0.9
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 1
    assert rows.computed == 1

    now.seconds += 0.2
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2
    assert rows.computed == 2


async def test_forget_drops_the_figures_at_once(rows: Aggregates, now: Clock) -> None:
    figures = cache(rows, now)
    await figures.shown(CAMPAIGN)
    rows.supporters = 2

    figures.forget(CAMPAIGN)

    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2
    assert rows.computed == 2


async def test_forget_concerns_that_campaign_only(rows: Aggregates, now: Clock) -> None:
    figures = cache(rows, now)
    await figures.shown(CAMPAIGN)
    await figures.shown(CAMPAIGN + 1)

    figures.forget(CAMPAIGN + 1)
    await figures.shown(CAMPAIGN)

    assert rows.computed == 2


async def test_a_computation_under_way_when_forgotten_is_not_kept(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now)
    rows.gate = asyncio.Event()
    before = asyncio.create_task(figures.shown(CAMPAIGN))
    await settle()  # counting 1 supporter, not finished
    rows.supporters = 2
    figures.forget(CAMPAIGN)
    after = asyncio.create_task(figures.shown(CAMPAIGN))  # does not join the old one
    await settle()
    rows.gate.set()

    assert (await before).stats.supporters == 1
    assert (await after).stats.supporters == 2
    assert rows.computed == 2
    rows.gate = None
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2  # the newer one is kept
    assert rows.computed == 2


async def test_after_the_window_the_last_figures_are_shown_while_one_refresh_runs(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now, stale=2.0)
    await figures.shown(CAMPAIGN)
    rows.supporters = 2
    rows.gate = asyncio.Event()
    now.seconds += 1.5

    # none waits for the gate (one that did would time out instead of hanging)
    shown = [await asyncio.wait_for(figures.shown(CAMPAIGN), 10) for _ in range(10)]

    assert {s.stats.supporters for s in shown} == {1}
    await settle()
    assert rows.computed == 2  # one refresh for the ten
    rows.gate.set()
    await settle()
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2
    assert rows.computed == 2


async def test_figures_older_than_the_stale_limit_are_waited_for(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now, stale=2.0)
    await figures.shown(CAMPAIGN)
    rows.supporters = 2
    now.seconds += 2

    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2


async def test_post_links_only_when_asked_for_recruiters_named(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now)

    assert (await figures.shown(CAMPAIGN)).posts == ()
    shown = await figures.shown(CAMPAIGN, with_posts=True)
    assert shown.posts == ("https://mastodon.example/1", "https://mastodon.example/2")
    assert [(r.rank, r.recruited, r.name) for r in shown.recruiters] == [(1, 2, "Ann")]


async def test_a_failure_reaches_every_waiter_and_is_not_kept(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now)
    rows.gate, rows.fail = asyncio.Event(), True
    callers = [asyncio.create_task(figures.shown(CAMPAIGN)) for _ in range(3)]
    await settle()
    rows.gate.set()

    outcomes = await asyncio.gather(*callers, return_exceptions=True)

    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert rows.computed == 1
    rows.gate, rows.fail = None, False
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 1
    assert rows.computed == 2


async def test_a_caller_giving_up_leaves_the_others_their_figures(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now)
    rows.gate = asyncio.Event()
    impatient = asyncio.create_task(figures.shown(CAMPAIGN))
    patient = asyncio.create_task(figures.shown(CAMPAIGN))
    await settle()

    impatient.cancel()
    await settle()
    rows.gate.set()

    assert (await patient).stats.supporters == 1
    assert impatient.cancelled()
    assert rows.computed == 1


async def test_a_refresh_shows_the_last_figures_while_one_recomputation_runs(
    rows: Aggregates, now: Clock
) -> None:
    """The cards of a launch or its report are refreshed: the next person gets the last
    figures at once, and the recomputation they start serves the ones after."""
    figures = cache(rows, now, stale=5.0)
    await figures.shown(CAMPAIGN)
    rows.supporters = 2
    rows.gate = asyncio.Event()  # the recomputation is held: a reader that waited would hang
    figures.refresh(CAMPAIGN)

    shown = await asyncio.wait_for(figures.shown(CAMPAIGN), 1.0)
    assert shown.stats.supporters == 1 and rows.computed == 2

    rows.gate.set()
    await settle()
    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2
    assert rows.computed == 2


async def test_a_refresh_of_figures_too_old_to_show_waits_for_them(
    rows: Aggregates, now: Clock
) -> None:
    figures = cache(rows, now, stale=5.0)
    await figures.shown(CAMPAIGN)
    rows.supporters = 2
    now.seconds += 60
    figures.refresh(CAMPAIGN)

    assert (await figures.shown(CAMPAIGN)).stats.supporters == 2
