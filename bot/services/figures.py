"""The figures shown to a person asking (the public page, ``/status``), computed once and
shared for a moment.

A campaign's figures take a read of several tables (the tallies its pledges keep, its
posts and failures, its top recruiters, its first post links); a flood of page views or
``/status`` of one campaign recomputed them per request. Here one caller computes them
while concurrent callers for the same campaign await that same computation (single-flight),
and the result is reused for ``fresh_seconds``. After that, a caller still gets the last
figures at once (if they are less than ``stale_seconds`` old) while one refresh runs
behind it, so under a steady stream of requests nobody waits for the aggregate. So at
most one aggregate per campaign runs at a time, about one a second under load.

The figures stay derived from the rows: nothing is counted here. Whatever this process
changes about a campaign's pledges goes through ``forget`` (the card refresh request every
pledge, withdrawal and erasure already makes, and a recruiter's naming), so the next
person asking sees it at once; another process's changes show within seconds. A blast's
running tally only ``refresh``-es: while it posts, people asking get figures at most
``stale_seconds`` old rather than each first one after a tally waiting for them.
The cards' refresh itself (the launch's and the report's steps) only ``refresh``-es: the
next person then gets the last figures while they are recomputed, rather than waiting for
the aggregate while the report reads every pledge.
Decisions (milestones, the launch goal) never read from here: they read the rows.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.domain.cards import CampaignStats
from bot.ports import Repository
from bot.services.recruiter_names import ShownRecruiter, shown_recruiters

log = logging.getLogger(__name__)

FRESH_SECONDS = 1.0  # figures reused as they are
STALE_SECONDS = 2.0  # then still shown while one refresh runs; older ones are waited for
POSTS_SHOWN = 5
_KEPT = 256  # entries kept before the expired ones are dropped

_Key = tuple[int, bool]  # campaign id, with post links


@dataclass(frozen=True)
class ShownFigures:
    """What a page or ``/status`` shows of a campaign's pledges; ``posts`` only when asked
    for (a launched campaign's first post links)."""

    stats: CampaignStats
    recruiters: tuple[ShownRecruiter, ...]
    posts: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    figures: ShownFigures
    at: float  # when its computation started: its age errs on the old side
    generation: int


@dataclass(frozen=True)
class _Flight:
    task: asyncio.Task[ShownFigures]
    generation: int


class FiguresCache:
    def __init__(
        self,
        repo: Repository,
        *,
        fresh_seconds: float = FRESH_SECONDS,
        stale_seconds: float = STALE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._fresh = fresh_seconds
        self._stale = max(stale_seconds, fresh_seconds)
        self._now = now
        self._entries: dict[_Key, _Entry] = {}
        self._flights: dict[_Key, _Flight] = {}
        # Bumped by ``forget``: figures computed under an older generation are never shown.
        # ``forget`` only stores into this dict, so any thread may call it.
        self._generations: dict[int, int] = {}
        self._counter = itertools.count(1)

    async def shown(self, campaign_id: int, *, with_posts: bool = False) -> ShownFigures:
        """The campaign's figures, at most ``fresh_seconds`` old (``stale_seconds`` while a
        refresh runs), never older than this process's last change to its pledges."""
        key = (campaign_id, with_posts)
        generation = self._generations.get(campaign_id, 0)
        entry = self._entries.get(key)
        if entry is not None and entry.generation == generation:
            age = self._now() - entry.at
            if age < self._fresh:
                return entry.figures
            if age < self._stale:
                self._flight(key, generation)  # refreshed behind this caller
                return entry.figures
        # shielded: a caller that gives up does not cancel the others' computation
        return await asyncio.shield(self._flight(key, generation).task)

    def refresh(self, campaign_id: int) -> None:
        """The cards of this campaign are being refreshed (the launch, the report): the
        figures shown now are recomputed by the next caller's refresh, and shown to it
        meanwhile (at most ``stale_seconds`` old). People's own changes go through
        ``forget``, which the card refresh request of each of them has already made."""
        due = self._now() - self._fresh
        for key, entry in list(self._entries.items()):
            if key[0] == campaign_id and entry.at > due:
                self._entries[key] = replace(entry, at=due)

    def forget(self, campaign_id: int) -> None:
        """This campaign's pledges changed: figures computed before are not shown again."""
        self._generations[campaign_id] = next(self._counter)

    def _flight(self, key: _Key, generation: int) -> _Flight:
        """The computation under way for ``key`` at ``generation``, started if none is."""
        flight = self._flights.get(key)
        if flight is not None and flight.generation == generation:
            return flight
        started = self._now()
        task = asyncio.get_running_loop().create_task(self._compute(*key))
        flight = _Flight(task, generation)
        self._flights[key] = flight
        task.add_done_callback(lambda done: self._landed(key, flight, started, done))
        return flight

    def _landed(
        self, key: _Key, flight: _Flight, started: float, task: asyncio.Task[ShownFigures]
    ) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if task.cancelled():
            return
        failed = task.exception()  # retrieved here too: a refresh nobody awaited may fail
        if failed is not None:
            log.warning("computing the figures of campaign %s failed: %r", key[0], failed)
            return
        if self._generations.get(key[0], 0) != flight.generation:
            return  # changed meanwhile: these may miss the change
        kept = self._entries.get(key)
        if kept is None or kept.generation != flight.generation or kept.at <= started:
            self._entries[key] = _Entry(task.result(), started, flight.generation)
            if len(self._entries) > _KEPT:
                self._drop_expired()

    def _drop_expired(self) -> None:
        now = self._now()
        for key, entry in list(self._entries.items()):
            if now - entry.at >= self._stale:
                del self._entries[key]

    async def _compute(self, campaign_id: int, with_posts: bool) -> ShownFigures:
        # post links read as figures: a page must not decode every posted pledge
        stats, recruiters, names, posts = await self._repo.shown_figures(
            campaign_id, POSTS_SHOWN if with_posts else 0
        )
        return ShownFigures(stats, shown_recruiters(recruiters, names), tuple(posts))
