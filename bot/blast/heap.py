"""Keeping the garbage collector out of the blast's way.

A launch loads a campaign's pledges (hundreds of thousands of objects) that live until
the blast is over, then sends while the HTTP client churns through short-lived objects.
Left alone, the collector runs hundreds of young-generation passes during the load and
full passes during the blast that walk every loaded pledge again: seconds of CPU on the
one core that also has to keep the posts flowing. So the collector pauses while the
launch loads (nothing cyclic is made there), what was loaded is frozen (moved out of
the collector's sight: it is still freed by reference counting) and, for the rest of the
blast, young collections run less often. Everything is restored when the last blast of
the process ends (two campaigns may launch at once, so the state is counted, not nested).

The same holds between launches for what a process builds once: its modules, the chat
SDKs, the web app. ``freeze_startup`` puts that out of the collector's sight once the
process is up, so a full collection walks only what came after: in
``benchmarks/replies.py`` the longest one fell from 252 to 98 ms (all collections of the
run together from 1.3 to 0.7 s), and every thread, the one answering people included,
waits out each of them. What a blast froze is then thawed a minute after the last blast
ends (``THAW_DELAY_SECONDS``, not while the report and results still go out): one full
collection finds the blast's cyclic garbage, and what is left is frozen again.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

BLAST_YOUNG_THRESHOLD = 20_000  # objects allocated between young collections (default 700)
THAW_DELAY_SECONDS = 60.0  # after the last blast, before what it froze is collected


class _Heap:
    """Process-wide collector settings shared by every blast running at the moment."""

    def __init__(self) -> None:
        self.blasts = 0
        self.loads = 0
        self.thresholds = gc.get_threshold()
        self.frozen_before = 0
        self.was_enabled = True
        self.startup_frozen = False

    @contextmanager
    def blast(self, young_threshold: int) -> Iterator[None]:
        if self.blasts == 0:
            self.thresholds = gc.get_threshold()
            # counting the frozen walks all of them (~20 ms with the start-up set frozen);
            # only needed when nothing here froze them
            self.frozen_before = 0 if self.startup_frozen else gc.get_freeze_count()
            if young_threshold > self.thresholds[0]:
                gc.set_threshold(young_threshold, *self.thresholds[1:])
        self.blasts += 1
        try:
            yield
        finally:
            self.blasts -= 1
            if self.blasts == 0:
                if self.startup_frozen:  # the start-up set stays out of sight
                    self._thaw_later()
                elif not self.frozen_before:  # never thaw what someone else froze
                    gc.unfreeze()  # back under the collector: cyclic garbage is found again
                gc.set_threshold(*self.thresholds)

    @contextmanager
    def loading(self) -> Iterator[None]:
        if self.loads == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
        self.loads += 1
        try:
            yield
        finally:
            self.loads -= 1
            if self.loads == 0:
                if self.blasts:
                    gc.freeze()  # what was loaded lives until the blast is over
                if self.was_enabled:
                    gc.enable()

    def _thaw_later(self) -> None:
        try:
            asyncio.get_running_loop().call_later(THAW_DELAY_SECONDS, self.refreeze)
        except RuntimeError:  # no loop (a script): now
            self.refreeze()

    def refreeze(self) -> None:
        """Collect what is no longer used, frozen or not, and freeze the rest; not while a
        blast runs or loads (it froze its load on purpose)."""
        if self.blasts or self.loads:
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def freeze_startup(self) -> None:
        gc.collect()  # start-up's garbage goes first: frozen, it would never be found
        gc.freeze()
        self.startup_frozen = True


_HEAP = _Heap()


def freeze_startup() -> None:
    """Once the process is up (``chorus run``): what start-up built leaves the
    collector's sight for good (still freed by reference counting)."""
    _HEAP.freeze_startup()


def blast_heap(young_threshold: int = BLAST_YOUNG_THRESHOLD) -> AbstractContextManager[None]:
    """For a whole launch run; restores the collector's settings when the last one ends."""
    return _HEAP.blast(young_threshold)


def loading() -> AbstractContextManager[None]:
    """Around the bulk loads of a launch: no collection meanwhile, and (inside
    ``blast_heap``) what was loaded is frozen afterwards."""
    return _HEAP.loading()
