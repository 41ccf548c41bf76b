"""/stats in the console: the chart and the CSV are written under DATA_DIR and their paths
printed with the figures; bad input shows the usage."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from adapters.console.clock import ShiftableClock
from bot.ports import Repository
from bot.runtime import wire_console
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET
from tests.integration.console.conftest import Console


@pytest.fixture
async def console_in(repo: Repository, tmp_path: Path) -> AsyncIterator[Console]:
    settings = Settings(_env_file=None, min_lead_minutes=60, data_dir=tmp_path)  # type: ignore[call-arg]
    clock = ShiftableClock(FakeClock())
    out = io.StringIO()
    parts = wire_console(settings, repo, clock, out, language="en", secret=TEST_SECRET)
    await parts.scheduler.start()
    try:
        yield Console(
            parts.core, parts.session, parts.front, parts.sandbox, clock, out, parts.scheduler
        )
    finally:
        await parts.scheduler.stop()


def saved_path(printed: str, word: str) -> Path:
    return Path(printed.split(f"{word} saved to ", 1)[1].split()[0])


async def test_stats_writes_the_chart_and_the_csv(console_in: Console, tmp_path: Path) -> None:
    console = console_in
    ref = await console.live_campaign(goal="2")
    for name in ("alice", "bob"):
        await console.type(f"/as {name}", f"/support {ref}")

    printed = await console.type("/as you", f"/stats {ref.lower()}")
    assert f"Figures of “Save the park” ({ref})" in printed
    assert "2 supporters, 2 pledged account(s)." in printed
    assert "• console chat: 2" in printed
    chart = saved_path(printed, "Chart")
    assert chart.parent == tmp_path / "stats"
    image = Image.open(chart)
    assert (image.format, image.size) == ("PNG", (640, 360))

    printed = await console.type(f"/stats {ref} csv")
    rows = list(csv.DictReader(io.StringIO(saved_path(printed, "CSV").read_text("utf-8-sig"))))
    assert [(r["source"], r["status"]) for r in rows] == [("console", "pledged")] * 2

    assert "/stats REF [csv]" in await console.type("/stats")
    assert "/stats REF [csv]" in await console.type(f"/stats {ref} pdf")
    assert "No campaign ZZZZZZ found" in await console.type("/stats ZZZZZZ")
