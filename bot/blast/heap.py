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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

BLAST_YOUNG_THRESHOLD = 20_000  # objects allocated between young collections (default 700)


class _Heap:
    """Process-wide collector settings shared by every blast running at the moment."""

    def __init__(self) -> None:
        self.blasts = 0
        self.loads = 0
        self.thresholds = gc.get_threshold()
        self.frozen_before = 0
        self.was_enabled = True

    @contextmanager
    def blast(self, young_threshold: int) -> Iterator[None]:
        if self.blasts == 0:
            self.thresholds = gc.get_threshold()
            self.frozen_before = gc.get_freeze_count()
            if young_threshold > self.thresholds[0]:
                gc.set_threshold(young_threshold, *self.thresholds[1:])
        self.blasts += 1
        try:
            yield
        finally:
            self.blasts -= 1
            if self.blasts == 0:
                if not self.frozen_before:  # never thaw what someone else froze
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


_HEAP = _Heap()


def blast_heap(young_threshold: int = BLAST_YOUNG_THRESHOLD) -> AbstractContextManager[None]:
    """For a whole launch run; restores the collector's settings when the last one ends."""
    return _HEAP.blast(young_threshold)


def loading() -> AbstractContextManager[None]:
    """Around the bulk loads of a launch: no collection meanwhile, and (inside
    ``blast_heap``) what was loaded is frozen afterwards."""
    return _HEAP.loading()
