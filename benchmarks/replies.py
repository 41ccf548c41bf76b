"""Benchmark of what a person feels: reply times under a blast, and the pledge flow's rate.

Two measures, each on SQLite and on PostgreSQL (``--database``):

``replies``: Chorus as ``chorus run`` wires it (``bot.runtime.chat_platforms``: the real
python-telegram-bot application, long polling) talks to a loopback Telegram
(``benchmarks/telegram_wire.py``, its own process) and posts to the loopback Mastodon (its
own process, no latency). The blast runs as ``chorus run`` runs it
(``bot.runtime.start_blast_worker``: with the default BLAST_THREAD, the launch splits it
into batches and a worker on its own thread and event loop posts them; set
``BLAST_THREAD=false`` in the environment to measure it in the one loop). The Telegram
fake plays people who send ``/status BENCH1`` or ``/help`` or press a button, one every
``--every-ms``, and times each from the update handed to the bot's long poll to the
answer (``sendMessage``/``answerCallbackQuery``) arriving at the fake: update in, reply
out. Three windows: idle (before the launch),
while the blast of ``--size`` pledges posts, and while the report and each supporter's
result go out afterwards (``--tell-seconds``; supporters are Telegram users, so those
messages share the bot's Telegram connection and its flood limiter with the replies). A
probe still unanswered ``--grace-seconds`` after the last one was sent counts as
unanswered, with the time it waited until then.

``flow``: the pledge site (the real web app and database, in a child process) and a
loopback X (``tests/fakes/x_oauth_bench.py``, its own process); this process plays
``--concurrency`` browsers, each completing pledges one after the other: the pledge page
(GET), its form (POST) whose redirect goes to X's authorization screen, whose redirect
comes back to the OAuth callback, which exchanges the code, reads the profile and stores
the pledge. Throughput = pledges stored / wall time; the stored count is read back.
With ``--statements`` (SQLite only; it costs CPU, so the rates are not comparable) the
site also counts, per pledge, its trips to aiosqlite's thread, the SQL statements run
and the transactions among them (BEGIN).

    .venv/bin/python -m benchmarks.replies                       # both, both databases
    .venv/bin/python -m benchmarks.replies --measure replies --database sqlite --size 10000
    .venv/bin/python -m benchmarks.replies --measure flow --pledges 2000 --concurrency 32

A script printing figures, not a test: nothing is asserted. Only ``bench`` people and
``BENCH1`` exist in the databases it makes (temporary, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from adapters.networks.mastodon import MASTODON_SPEC, MastodonNetwork, delivery_mode
from adapters.networks.x import XNetwork
from adapters.networks.x_spec import X_SPEC, X
from adapters.networks.x_spec import delivery_mode as x_delivery_mode
from benchmarks.blast import DEFAULT_POSTGRES, ROOT, SECRET, database_url, seed, start_fake
from benchmarks.browser import Browser
from bot import i18n
from bot.app import build_chorus
from bot.blast import heap
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.registry import NetworkRegistry
from bot.runtime import chat_platforms, open_process_blast_queue, start_blast_worker
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.sqlite import SqliteRepository

NONCE_RE = re.compile(r'name="nonce" value="([^"]+)"')
UNLIMITED = 1_000_000_000  # the web app's per-address limit: one address plays every browser


def start_module(module: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """A loopback fake of ``benchmarks`` in its own process; its first line is JSON."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit(f"{module} did not start")
    return process, json.loads(line)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the value below which ``share`` of them lie)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# --- reply times ---------------------------------------------------------------------


async def _post(url: str, path: str, **query: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(url + path, params=query) as r:
        return dict(await r.json())


async def _get(url: str, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url + path) as r:
        return dict(await r.json())


async def measure_replies(args: argparse.Namespace, database: str) -> dict[str, Any]:
    telegram_process, telegram = start_module("benchmarks.telegram_wire")
    mastodon_process, info = start_fake(0, args.size)
    try:
        url, accounts = info["url"], info["accounts"]
        async with database_url(database, args.postgres) as db_url:
            repo = await open_repository(db_url, TokenCipher(SECRET))
            clock = FakeClock(datetime.now(UTC))
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                telegram_bot_token=telegram["token"],
                telegram_api_url=telegram["url"],
                min_lead_minutes=0,
                blast_concurrency=args.concurrency,
                mastodon_allow_private_hosts=True,
                mastodon_delivery=DeliveryMode.AUTO,
            )
            (platform,) = chat_platforms(settings)  # as chorus run builds Telegram
            network = MastodonNetwork(settings, repo, clock=clock)
            registry = NetworkRegistry()
            registry.register(MASTODON_SPEC, network, mode=delivery_mode(settings))
            queue = open_process_blast_queue(settings, repo, db_url)
            core = build_chorus(
                settings,
                repo,
                clock,
                secret=SECRET,
                registry=registry,
                front_ends=[platform.outbound],
                card_delay_seconds=0,
                blast_queue=queue,
            )
            workers = AsyncExitStack()  # the blast worker as chorus run starts it (BLAST_THREAD)
            await start_blast_worker(
                settings,
                workers,
                url=db_url,
                secret=SECRET,
                repo=repo,
                queue=queue,
                registry=registry,
                clock=clock,
            )
            inbound = platform.inbound(core.chat)
            await inbound.start()
            campaign = await seed(
                repo, clock, url.removeprefix("http://"), accounts, platform="telegram"
            )
            scheduler = core.scheduler
            await scheduler.start()
            clock.set(campaign.launch_at - timedelta(minutes=5))
            await scheduler.sync()
            await scheduler.wait_idle()  # prepared: the launch is the blast alone

            await asyncio.to_thread(i18n.preload)  # as chorus run does once it is up
            heap.freeze_startup()
            await _post(telegram["url"], "/_bench/probe", every_ms=str(args.every_ms))
            await asyncio.sleep(args.idle_seconds)
            launched = time.perf_counter()
            cpu_launched = time.process_time()  # every thread of this process
            clock.set(campaign.launch_at)

            async def blast() -> None:
                await scheduler.sync()
                await scheduler.wait_idle()

            running = asyncio.create_task(blast())
            while (await _get(url, "/_fake/stats"))["posts"] < args.size:
                if running.done():
                    break
                await asyncio.sleep(0.1)
            posted = time.perf_counter()
            cpu_posted = time.process_time()
            await asyncio.sleep(args.tell_seconds)
            told = time.perf_counter()
            await _post(telegram["url"], "/_bench/stop")
            await asyncio.sleep(args.grace_seconds)  # the last probes' answers on their way
            stats = await _get(telegram["url"], "/_bench/stats")
            running.cancel()
            await scheduler.stop()
            await workers.aclose()
            await queue.close()
            await inbound.stop()
            await network.aclose()
            await repo.close()
    finally:
        stop(telegram_process)
        stop(mastodon_process)
    windows = {
        "idle": (0.0, launched),
        "blast": (launched, posted),
        "telling": (posted, told),
    }
    figures: dict[str, Any] = {
        "database": database,
        "size": args.size,
        "blast_s": posted - launched,
        "blast_cpu_ms": (cpu_posted - cpu_launched) * 1000 / args.size,  # per pledge
        "told": stats["sent"],
    }
    for name, (start, end) in windows.items():
        for kind in ("command", "button"):
            times, unanswered = [], 0
            for probe_kind, _, sent, answered in stats["probes"]:
                if probe_kind != kind or not start <= sent < end:
                    continue
                if answered is None:
                    unanswered += 1
                    answered = stats["now"]  # at least this long: counted, not dropped
                times.append((answered - sent) * 1000)
            figures[f"{name}_{kind}"] = {
                "n": len(times),
                "p50": percentile(times, 0.50),
                "p99": percentile(times, 0.99),
                "max": max(times, default=float("nan")),
                "mean": statistics.fmean(times) if times else float("nan"),
                "unanswered": unanswered,
            }
    return figures


def print_replies(figures: dict[str, Any]) -> None:
    print(
        f"replies on {figures['database']}: blast of {figures['size']} posted in "
        f"{figures['blast_s']:.1f} s ({figures['blast_cpu_ms']:.2f} ms CPU per pledge, "
        f"this process); {figures['told']} Telegram messages sent in all"
    )
    for name in ("idle", "blast", "telling"):
        for kind in ("command", "button"):
            f = figures[f"{name}_{kind}"]
            print(
                f"  {name:<8} {kind:<8} n {f['n']:>4} | p50 {f['p50']:8.1f} ms | "
                f"p99 {f['p99']:8.1f} ms | max {f['max']:8.1f} ms | "
                f"unanswered {f['unanswered']}"
            )


# --- the pledge flow -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve_site(args: argparse.Namespace) -> None:
    """The child: the pledge site on ``--database``, until its stdin closes."""
    async with database_url(args.database, args.postgres) as db_url:
        repo = await open_repository(db_url, TokenCipher(SECRET))
        clock = SystemClock()
        port = free_port()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            public_url=f"http://127.0.0.1:{port}",
            x_client_id="bench-client-id",
            x_api_url=args.x_url,
            x_authorize_url=f"{args.x_url}/i/oauth2/authorize",
            web_rate_per_address=UNLIMITED,
            web_rate_per_link=UNLIMITED,
        )
        x = XNetwork(settings, repo, clock=clock)
        registry = NetworkRegistry()
        registry.register(X_SPEC, x, linker=x, mode=x_delivery_mode(settings))
        core = build_chorus(settings, repo, clock, secret=SECRET, registry=registry)
        now = clock.now()
        campaign = await repo.add_campaign(
            Campaign(
                ref="BENCH1",
                title="Benchmark",
                message="Benchmark pledge #ChorusBench https://chorus.example/bench",
                goal=0,
                launch_at=now + timedelta(days=2),
                networks=(X,),
                organiser=UserRef("bench", "1", "Organiser"),
                created_at=now,
                status=CampaignStatus.LIVE,
            )
        )
        await _existing_supporters(repo, campaign, args.existing, now)
        links = [
            core.pledges.pledge_url(campaign, UserRef("telegram", str(10_000 + n), f"S{n}", "en"))
            for n in range(args.pledges)
        ]
        runner = web.AppRunner(core.web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.to_thread(i18n.preload)  # as chorus run does once it is up
        heap.freeze_startup()
        print(json.dumps({"links": links}), flush=True)
        loop = asyncio.get_running_loop()
        counts = await _count_statements(repo) if args.statements else None
        cpu = time.process_time()
        threads = thread_cpu()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "count":
                seen = dict(counts or {})
                stats = await repo.campaign_stats(campaign.id or 0)
                spent = time.process_time() - cpu
                now_threads = thread_cpu()
                by_thread = {
                    name: used - threads.get(name, 0.0) for name, used in now_threads.items()
                }
                print(
                    json.dumps(
                        {
                            "stored": stats.accounts,
                            "cpu_s": spent,
                            "seen": seen,
                            "threads": by_thread,
                        }
                    ),
                    flush=True,
                )
            elif line.strip() == "reset":
                cpu = time.process_time()
                threads = thread_cpu()
                if counts is not None:
                    counts.clear()
        await runner.cleanup()
        await x.aclose()
        await repo.close()


async def _existing_supporters(repo: Any, campaign: Campaign, count: int, now: datetime) -> None:
    """``count`` people who pledged before the benchmark: the flow's cost must not grow
    with the campaign."""
    for start in range(0, count, 500):
        linked = await repo.save_accounts(
            [
                SocialAccount(
                    owner=UserRef("bench", str(n), f"E{n}"),
                    network=X,
                    instance="x.com",
                    remote_id=f"existing-{n}",
                    handle=f"existing_{n}",
                    followers=n % 1000,
                    tokens=TokenSet(access_token="bench-token-not-real"),
                    linked_at=now,
                )
                for n in range(start, min(start + 500, count))
            ]
        )
        await repo.add_pledges(
            [
                Pledge(
                    campaign_id=campaign.id or 0,
                    supporter=account.owner,
                    account_id=account.id or 0,
                    network=X,
                    created_at=now,
                    delivery_mode=DeliveryMode.TAP,
                )
                for account in linked
            ]
        )


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process by its Python name (Linux's
    ``/proc``; empty elsewhere), to tell the event loop's share from the database's."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    spent: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc)
        name = re.sub(r"[-_]?\d+$", "", thread.name.split(" ")[0]) or thread.name
        used = (int(fields[11]) + int(fields[12])) / ticks
        spent[name] = spent.get(name, 0.0) + used
    return spent


async def _count_statements(repo: Any) -> collections.Counter[str]:
    """Count the SQLite site's trips to aiosqlite's thread, statements and BEGINs."""
    if not isinstance(repo, SqliteRepository):
        raise SystemExit("--statements counts on SQLite only")
    counts: collections.Counter[str] = collections.Counter()
    connection = repo._db
    run = connection._execute

    async def counted(*args: Any, **kwargs: Any) -> Any:
        counts["trips"] += 1
        return await run(*args, **kwargs)

    def traced(sql: str) -> None:
        counts["statements"] += 1
        if sql.startswith("BEGIN"):
            counts["transactions"] += 1

    connection._execute = counted  # type: ignore[method-assign]
    await connection.set_trace_callback(traced)
    return counts


async def pledge_once(browser: Browser, link: str) -> bool:
    """One person: the page, the form, X's screen, the callback; True if thanked."""
    page = await browser.get(link)
    match = NONCE_RE.search(page.text())
    if page.status != 200 or match is None:
        return False
    form = {"nonce": match.group(1), "message": "", "tz": "Europe/Paris"}
    done = await browser.post_form(f"{link}/x", form)  # redirects followed
    if os.environ.get("BENCH_DEBUG"):
        print(done.status, done.url, done.history, file=sys.stderr)
    return done.status == 200 and "/oauth/x/callback" in done.url


async def drive(links: list[str], concurrency: int) -> tuple[float, int]:
    """``concurrency`` browsers (``benchmarks.browser``: lean, so the CPU goes to the site),
    each with its own connections and cookies, taking links in turn."""
    queue = list(reversed(links))
    thanked = 0

    async def person() -> None:
        nonlocal thanked
        browser = Browser()
        try:
            while queue:
                link = queue.pop()
                browser.clear_cookies()
                ok = await pledge_once(browser, link)  # then add: += would read first
                thanked += ok
        finally:
            await browser.close()

    started = time.perf_counter()
    await asyncio.gather(*(person() for _ in range(concurrency)))
    return time.perf_counter() - started, thanked


def measure_flow(args: argparse.Namespace, database: str) -> dict[str, Any]:
    x_process, x = start_module("tests.fakes.x_oauth_bench")
    site = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.replies",
            "--serve-site",
            "--database",
            database,
            "--postgres",
            args.postgres,
            "--pledges",
            str(args.pledges + args.warmup),
            "--existing",
            str(args.existing),
            "--x-url",
            x["url"],
            *(["--profile", args.profile] if args.profile else []),
            *(["--statements"] if args.statements else []),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert site.stdin is not None and site.stdout is not None
    try:
        line = site.stdout.readline()
        if not line:
            raise SystemExit("the pledge site did not start")
        links = json.loads(line)["links"]
        asyncio.run(drive(links[: args.warmup], min(args.concurrency, args.warmup or 1)))
        site.stdin.write("reset\n")
        site.stdin.flush()
        elapsed, thanked = asyncio.run(drive(links[args.warmup :], args.concurrency))
        site.stdin.write("count\n")
        site.stdin.flush()
        counted = json.loads(site.stdout.readline())
        site.stdin.close()
        site.wait(timeout=60)
    finally:
        if site.poll() is None:
            site.kill()
        stop(x_process)
    return {
        "database": database,
        "pledges": args.pledges,
        "concurrency": args.concurrency,
        "elapsed_s": elapsed,
        "thanked": thanked,
        "stored": counted["stored"] - args.warmup - args.existing,
        "existing": args.existing,
        "rate": thanked / elapsed if elapsed else 0.0,
        "site_cpu_ms": counted["cpu_s"] * 1000 / max(thanked, 1),
        "per_pledge": {k: n / max(thanked, 1) for k, n in counted["seen"].items()},
        "thread_cpu_ms": {
            name: used * 1000 / max(thanked, 1)
            for name, used in counted["threads"].items()
            if used > 0
        },
    }


def print_flow(f: dict[str, Any]) -> None:
    print(
        f"pledge flow on {f['database']}"
        + (f" (campaign with {f['existing']:,} supporters already)" if f["existing"] else "")
        + f": {f['thanked']} of {f['pledges']} thanked, "
        f"{f['stored']} stored, in {f['elapsed_s']:.1f} s with {f['concurrency']} browsers: "
        f"{f['rate']:.0f} pledges/s | site CPU {f['site_cpu_ms']:.2f} ms per pledge"
        + (
            " ("
            + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(f["thread_cpu_ms"].items()))
            + ")"
            if f["thread_cpu_ms"]
            else ""
        )
    )
    if f["per_pledge"]:
        print(
            "  per pledge (statements counted, CPU not comparable): "
            + ", ".join(f"{n:.1f} {k}" for k, n in sorted(f["per_pledge"].items()))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", choices=("replies", "flow", "both"), default="both")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--size", type=int, default=10_000, help="pledges in the blast")
    parser.add_argument("--concurrency", type=int, default=None, help="blast or browsers")
    parser.add_argument("--every-ms", type=float, default=100.0, help="one probe every …")
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--tell-seconds", type=float, default=10.0)
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=2.0,
        help="after the last probe, before a probe counts as unanswered",
    )
    parser.add_argument("--pledges", type=int, default=2000, help="pledges in the flow")
    parser.add_argument("--warmup", type=int, default=50, help="pledges before timing")
    parser.add_argument(
        "--existing", type=int, default=0, help="flow: supporters the campaign already has"
    )
    parser.add_argument("--profile", help="flow: write the site's cProfile stats to this file")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="flow, SQLite: count the site's trips, statements and transactions per pledge",
    )
    parser.add_argument("--serve-site", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--x-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("size", "pledges"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if min(args.warmup, args.idle_seconds, args.tell_seconds, args.grace_seconds) < 0:
        parser.error("--warmup and the --...-seconds cannot be negative")
    if not 1 <= args.every_ms <= 10_000:
        parser.error("--every-ms must be within 1..10000")
    logging.basicConfig(level=logging.WARNING)
    if args.serve_site:
        if args.profile:  # where the site's time goes, for pstats
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            try:
                asyncio.run(serve_site(args))
            finally:
                profiler.disable()
                profiler.dump_stats(args.profile)
            return
        asyncio.run(serve_site(args))
        return
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"replies benchmark: {os.cpu_count()} CPUs, fakes at zero latency")
    if args.measure in ("replies", "both"):
        blast_args = argparse.Namespace(**{**vars(args), "concurrency": args.concurrency or 200})
        for database in databases:
            print_replies(asyncio.run(measure_replies(blast_args, database)))
    if args.measure in ("flow", "both"):
        flow_args = argparse.Namespace(**{**vars(args), "concurrency": args.concurrency or 32})
        if flow_args.concurrency < 1:
            parser.error("--concurrency must be at least 1")
        for database in databases:
            print_flow(measure_flow(flow_args, database))


if __name__ == "__main__":
    main()
