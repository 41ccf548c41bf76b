"""A console wired exactly as ``chorus console`` wires it, in-process and over real SQLite.

The output goes to a ``StringIO`` and the console's shiftable clock sits on a FakeClock,
so these tests drive the real session, front end, sandbox network and scheduler.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.console.clock import ShiftableClock
from adapters.console.front_end import ConsoleFrontEnd
from adapters.console.session import ConsoleSession
from adapters.networks.sandbox import SandboxNetwork
from bot.app import Chorus
from bot.ports import Repository
from bot.runtime import LaunchControl, wire_console
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET


@dataclass
class Console:
    core: Chorus
    session: ConsoleSession
    front: ConsoleFrontEnd
    sandbox: SandboxNetwork
    clock: ShiftableClock
    out: io.StringIO
    scheduler: LaunchControl

    async def type(self, *lines: str) -> str:
        """Type ``lines``; return only what they printed."""
        start = len(self.out.getvalue())
        for line in lines:
            await self.session.handle(line)
        return self.out.getvalue()[start:]

    async def new_campaign(self, goal: str = "3", title: str = "Save the park") -> str:
        """Create and submit a campaign as the current persona; return its reference."""
        await self.type(
            "/newcampaign",
            title,
            "Join us #savethepark https://example.org/park",
            "1",  # Skip: no other wordings
            goal,
            "in 2 hours",
            "1",  # Skip the story
            "1",  # Skip the picture
        )
        printed = await self.type("1")  # Submit
        return printed.split("New campaign ", 1)[1].split()[0]

    async def live_campaign(self, goal: str = "3") -> str:
        ref = await self.new_campaign(goal)
        await self.type(f"/approve {ref}", f"/promote {ref}")
        return ref


def console_settings(language: str = "en") -> Settings:
    return Settings(_env_file=None, default_language=language, min_lead_minutes=60)  # type: ignore[call-arg]


async def build_console(repo: Repository, language: str = "en") -> Console:
    settings = console_settings(language)
    clock = ShiftableClock(FakeClock())
    out = io.StringIO()
    parts = wire_console(settings, repo, clock, out, language=language, secret=TEST_SECRET)
    await parts.scheduler.start()
    return Console(
        parts.core, parts.session, parts.front, parts.sandbox, clock, out, parts.scheduler
    )


@pytest.fixture
async def console(repo: Repository) -> AsyncIterator[Console]:
    built = await build_console(repo)
    try:
        yield built
    finally:
        await built.scheduler.stop()
