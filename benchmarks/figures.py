"""What one ``/status``, one page view and one ``/help`` cost in process, with N pledges.

``benchmarks/replies.py`` times replies end to end (a real Telegram client, a loopback
Telegram); its idle window is a few dozen probes on a shared machine, so its p99 is one
slow probe. This script isolates the core's part: a campaign of ``--size`` pledges (some
recruited, a few recruiters named), then ``--calls`` answers of each kind one after the
other (wall and CPU per call, every thread of the process counted, and the database
statements per call on SQLite; "forgotten": the figures forgotten before each call, as
after a pledge change), then a flood of ``--flood`` concurrent ``/status`` of the
same campaign (wall for all, CPU per call). ``--profile FILE`` writes cProfile stats of
the sequential ``/status`` calls.

    .venv/bin/python -m benchmarks.figures --database sqlite --size 10000

A script printing figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from adapters.networks.mastodon import MASTODON_SPEC
from adapters.telegram.render import Renderer
from benchmarks.blast import DEFAULT_POSTGRES, SECRET, cpu_seconds, database_url, seed
from bot.app import build_chorus
from bot.crypto import TokenCipher
from bot.domain.text import t
from bot.registry import NetworkRegistry
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.sqlite import SqliteRepository

RECRUITED_EVERY = 7  # one pledge in seven names a recruiter
RECRUITERS = 40


async def recruit(repo: Any, campaign_id: int) -> None:
    """Spread recruiters over the pledges and name a few, so the top-recruiters query has
    work to do (the seed alone recruits nobody)."""
    async with repo.transaction() as db:
        await db.execute(
            "UPDATE pledges SET recruited_by = 'bench:' || CAST(1000 + id % $2 AS TEXT) "
            "WHERE campaign_id = $1 AND id % $3 = 0",
            campaign_id,
            RECRUITERS,
            RECRUITED_EVERY,
        )
    for n in range(0, RECRUITERS, 4):
        await repo.name_recruiter(campaign_id, f"bench:{1000 + n}", f"Recruiter {n}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def timed(
    name: str, call: Callable[[], Awaitable[Any]], calls: int, trace: list[str] | None
) -> None:
    if trace is not None:
        trace.clear()
    cpu, wall = cpu_seconds(), time.perf_counter()
    await call()  # the first: first-use imports and caches, apart from the others
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    statements = "" if trace is None else f" | {len(trace):5d} statements"
    print(
        f"  {name + ', first':<18} {1:>4} call  | wall {wall * 1000:7.2f} ms      | "
        f"CPU {cpu * 1000:7.2f} ms{statements}"
    )
    if trace is not None:
        trace.clear()
    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        await call()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    statements = "" if trace is None else f" | {len(trace) / calls:5.1f} statements/call"
    print(
        f"  {name:<26} {calls:>4} calls | wall {wall * 1000 / calls:7.2f} ms/call | "
        f"CPU {cpu * 1000 / calls:7.2f} ms/call{statements}"
    )


async def run(args: argparse.Namespace, database: str) -> None:
    async with database_url(database, args.postgres) as db_url:
        repo = await open_repository(db_url, TokenCipher(SECRET))
        clock = FakeClock(datetime.now(UTC))
        settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
        registry = NetworkRegistry()
        registry.know(MASTODON_SPEC)
        core = build_chorus(settings, repo, clock, secret=SECRET, registry=registry)
        accounts = [
            {"id": str(n), "username": f"u{n}", "access_token": f"token-{n}"}
            for n in range(args.size)
        ]
        campaign = await seed(repo, clock, "mastodon.example", accounts)
        assert campaign.id is not None
        await recruit(repo, campaign.id)
        trace: list[str] | None = None
        if isinstance(repo, SqliteRepository):
            trace = []
            await repo._db.set_trace_callback(trace.append)
        status = core.chat.status
        renderer = Renderer("ChorusBot", settings.timezone)

        async def status_call() -> None:
            renderer.message_text(await status.status(campaign.ref), "en")

        figures = getattr(core.public_pages, "figures", None)  # none before the cache

        async def forgotten_call() -> None:  # what a /status costs after a pledge change
            if figures is not None:
                figures.forget(campaign.id)
            await status_call()

        async def page_call() -> None:
            await core.public_pages.show(campaign.ref)

        async def help_call() -> None:
            renderer.text(t("telegram.help"), "en")

        print(f"figures on {database}: {args.size} pledges; load average {load()}")
        await timed("/status", status_call, args.calls, trace)
        await timed("/status, forgotten", forgotten_call, args.calls, trace)
        await timed("page view", page_call, args.calls, trace)
        await timed("/help (render)", help_call, args.calls, None)
        if trace is not None:
            trace.clear()
        cpu, wall = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(status_call() for _ in range(args.flood)))
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        statements = "" if trace is None else f" | {len(trace)} statements in all"
        print(
            f"  flood of {args.flood:>4} /status | wall {wall * 1000:8.1f} ms for all | "
            f"CPU {cpu * 1000 / args.flood:7.2f} ms/call{statements}"
        )
        print(f"  load average after: {load()}")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.calls):
                await status_call()
            profile.disable()
            profile.dump_stats(args.profile)
        if trace is not None:
            await repo._db.set_trace_callback(None)
        await repo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--size", type=int, default=10_000, help="pledges of the campaign")
    parser.add_argument("--calls", type=int, default=200, help="sequential calls of each kind")
    parser.add_argument("--flood", type=int, default=200, help="concurrent /status")
    parser.add_argument("--profile", help="write cProfile stats of the /status calls here")
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for database in databases:
        asyncio.run(run(args, database))


if __name__ == "__main__":
    main()
