"""The collector and a process that froze its start-up objects (``heap.freeze_startup``):
a blast thaws only to collect what it made, and leaves the start-up set frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.blast import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def started() -> Iterator[None]:
    heap.freeze_startup()
    try:
        yield
    finally:
        gc.unfreeze()
        heap._HEAP.startup_frozen = False


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


async def test_after_a_blast_its_cycles_are_collected_and_the_start_up_set_refrozen(
    started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "THAW_DELAY_SECONDS", 0.01)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    with heap.blast_heap():
        with heap.loading():
            made_while_loading = cycle()  # frozen with the load: out of the collector's sight
        assert gc.get_freeze_count() > frozen
        gc.collect()
        assert made_while_loading() is not None  # frozen garbage is not found...
    assert made_while_loading() is not None  # ...nor at once after the blast (the report)
    await asyncio.sleep(0.1)
    assert made_while_loading() is None  # ...but a moment later
    assert gc.get_freeze_count() > 0  # and start-up's objects are frozen again
    assert gc.isenabled()


def test_no_thaw_while_a_blast_runs(started: None) -> None:
    with heap.blast_heap():
        with heap.loading():
            made_while_loading = cycle()
        heap._HEAP.refreeze()  # a thaw scheduled by an earlier blast comes due
        assert made_while_loading() is not None


def test_start_up_garbage_is_collected_before_the_freeze() -> None:
    gc.disable()  # keep the cycle until the freeze's own collection
    try:
        made_at_start = cycle()
        heap.freeze_startup()
        assert made_at_start() is None
    finally:
        gc.enable()
        gc.unfreeze()
        heap._HEAP.startup_frozen = False


def test_a_blast_in_a_process_that_froze_its_start_up_does_not_count_the_frozen(
    started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the frozen objects walks all of them (about 20 ms of one turn of the loop
    for a `chorus run` process): with the start-up set frozen, the count is not needed."""

    def walked() -> int:
        raise AssertionError("the frozen set was walked")

    monkeypatch.setattr(gc, "get_freeze_count", walked)
    with heap.blast_heap():
        pass
