"""Benchmark of the synchronised blast: how fast N pledges go out, against the physical floor.

For each size N it starts the loopback Mastodon (``tests.fakes.mastodon_api``) in its own
process with the given latency, seeds a temporary SQLite database with a live campaign
and N pledges, runs the preparation step, then moves the clock to the launch moment and
times the real blast (``LaunchScheduler.sync``) through the real Mastodon adapter over
HTTP. In the same run, a bare aiohttp loop posts N statuses to the same fake with the same
concurrency: the baseline no implementation can beat. Each size runs in a fresh process
so its peak memory is its own. ``first`` and ``last`` are when the first and the last post
succeeded, from the launch. ``cpu`` is what the Chorus processes (every thread) spent per
pledge from the launch to the report: on a small machine the blast shares its cores with
the fake, so CPU per post, more than anything else, decides how close it gets to the floor.
Before the baseline, the fake's count per account checks that every pledge was posted
exactly once.

``--database postgresql`` runs the same blast on PostgreSQL (a fresh schema per run in
``--postgres``, dropped afterwards) instead of a temporary SQLite file. There the blast
queue is shared, as with ``chorus run``: the launch splits the auto pledges into batches
(``blast_batches``) and every process's ``BlastWorker`` claims and posts them. ``--workers``
lists process counts: with N, this process is the leader (it launches, and posts batches
with its own worker) and N-1 more run ``benchmarks.blast_worker`` on the same schema and
the same fake; each reports its CPU since the launch, its peak memory and its posts at the
end, so ``cpu`` sums every process and ``peak`` lists them (the leader first). With 1, the
leader posts every batch alone, which is what one ``chorus run`` on PostgreSQL does.
``--alone`` (one process) gives no queue to the launch, which then posts every pledge
itself as before the shared blast (and as on SQLite): the cost of the queue, side by side.
SQLite (and Bluesky) run one process.

    .venv/bin/python benchmarks/blast.py                      # 1000, 10000, 100000
    .venv/bin/python benchmarks/blast.py --sizes 1000 --latency-ms 100 --concurrency 200
    .venv/bin/python benchmarks/blast.py --database postgresql --workers 1 2 4 --sizes 100000
    .venv/bin/python benchmarks/blast.py --network bluesky --sizes 1000 2000

``--network bluesky`` runs the real Bluesky adapter (``BlueskyNetwork`` through
``BlueskyPds``) against the AT Protocol fakes (``tests.fakes.atproto_world``) in their own
process; the supporters are linked first through the real OAuth flow (not timed). Every
post signs a DPoP proof (ES256) and the fake PDS verifies it, so ``cpu`` per post is the
figure to read; there is no bare baseline (a client without DPoP cannot post there).

A script printing figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from adapters.networks.bluesky_spec import BLUESKY
from adapters.networks.mastodon import MASTODON, MASTODON_SPEC, MastodonNetwork, delivery_mode
from bot.app import build_chorus
from bot.blast.worker import BlastWorker
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.registry import NetworkRegistry
from bot.runtime import blast_worker
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.blast_queue import PostgresBlastQueue, open_blast_queue

ROOT = Path(__file__).resolve().parents[1]  # the fake Mastodon runs from the checkout
SECRET = "bench-secret-not-real-0123456789"
MESSAGE = "Benchmark blast #ChorusBench https://chorus.example/bench"
DEFAULT_SIZES = (1000, 10_000, 100_000)
SEED_BATCH = 10_000
DEFAULT_POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ONE_PROCESS_ONLY = "one process only: more share a blast on --database postgresql (Mastodon)"


class Stamps:
    """When this process's posts succeeded (``time.monotonic``: one clock for every process
    of the machine, so the processes' stamps compare), and how many there were."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.posted = 0

    def mark(self) -> None:
        stamp = time.monotonic()
        if self.first is None:
            self.first = stamp
        self.last = stamp
        self.posted += 1

    def report(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "posted": self.posted}


class StampedMastodon(MastodonNetwork):
    """The real Mastodon adapter, stamping each successful post: with the shared blast the
    posts are made by the workers of several processes, not by the launch's senders."""

    def __init__(self, settings: Settings, repo: Any, *, clock: Any) -> None:
        super().__init__(settings, repo, clock=clock)
        self.stamps = Stamps()

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        outcome = await super().post(account, text, idempotency_key)
        if outcome.ok:
            self.stamps.mark()
        return outcome


class BareHttpMastodon:
    """The blast's ``SocialNetwork`` port as one shared aiohttp session, nothing more.

    Running the blast through it isolates the cost of the blast engine (scheduling,
    batching, database writes) from the cost of a client library.
    """

    network = MASTODON

    def __init__(self, url: str, concurrency: int) -> None:
        self._url = url
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        self.stamps = Stamps()

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        outcome = await self._post(account, text, idempotency_key)
        if outcome.ok:
            self.stamps.mark()
        return outcome

    async def _post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._concurrency)
            )
        try:
            async with self._session.post(
                f"{self._url}/api/v1/statuses",
                data={"status": text, "visibility": "public"},
                headers={
                    "Authorization": f"Bearer {account.tokens.access_token}",
                    "Idempotency-Key": idempotency_key,
                },
            ) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return PostOutcome(OutcomeKind.NETWORK_DOWN, reason=type(exc).__name__)
        if response.status == 200:
            return PostOutcome(OutcomeKind.POSTED, remote_id=body["id"], url=body["url"])
        if response.status == 429:
            return PostOutcome(OutcomeKind.RATE_LIMITED)
        if response.status in (401, 403):
            return PostOutcome(OutcomeKind.REVOKED)
        if response.status >= 500:
            return PostOutcome(OutcomeKind.NETWORK_DOWN)
        return PostOutcome(OutcomeKind.REJECTED, reason=str(response.status))

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"{self._url}/share"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        return []

    async def refresh(self, account: SocialAccount) -> TokenSet:
        return account.tokens

    async def revoke(self, account: SocialAccount) -> None:
        return None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass
class Figures:
    client: str
    size: int
    seed_s: float
    prepare_s: float
    first_s: float
    last_s: float
    baseline_s: float
    posted: int
    fake_posts: int
    peak_mb: float
    cpu_ms: float = 0.0  # CPU of every Chorus process (every thread) per pledge, from the launch
    database: str = "sqlite"
    workers: int = 1
    shared: bool = False  # the launch's pledges went to the shared queue's batches
    peaks_mb: list[float] = field(default_factory=list)  # each process's, the leader first
    posted_by: list[int] = field(default_factory=list)  # posts made by each process
    twice: int = 0  # accounts the fake saw post more than once (must be 0)
    missing: int = 0  # accounts the fake saw post nothing (must be 0)

    def line(self) -> str:
        ratio = self.last_s / self.baseline_s if self.baseline_s else float("nan")
        rate = self.posted / self.last_s if self.last_s else 0.0
        peaks = "/".join(f"{peak:.0f}" for peak in self.peaks_mb or [self.peak_mb])
        split = f" | split {'/'.join(map(str, self.posted_by))}" if self.workers > 1 else ""
        once = "exactly once" if not (self.twice or self.missing) else "NOT exactly once"
        return (
            f"{self.database:<10} x{self.workers} {'shared' if self.shared else 'alone ':<6} "
            f"{self.client:<11} {self.size:>7} | first {self.first_s:6.3f} s | "
            f"last {self.last_s:7.2f} s | "
            f"baseline {self.baseline_s:7.2f} s | ratio {ratio:4.2f} | {rate:7.0f} posts/s | "
            f"cpu {self.cpu_ms:5.3f} ms/post | peak {peaks} MB | "
            f"posted {self.posted} (fake counted {self.fake_posts}, {once}: "
            f"twice {self.twice}, missing {self.missing}){split} | "
            f"seed {self.seed_s:.1f} s, prepare {self.prepare_s:.1f} s"
        )


def start_fake(latency_ms: float, accounts: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The loopback Mastodon in its own process (so it does not share our CPU)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.mastodon_api",
            "--latency-ms",
            str(latency_ms),
            "--accounts",
            str(accounts),
            "--no-record",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit("the fake Mastodon did not start")
    return process, json.loads(line)


async def seed(
    repo: Any,
    clock: FakeClock,
    host: str,
    accounts: list[dict[str, str]],
    *,
    platform: str = "bench",
    mode: DeliveryMode = DeliveryMode.AUTO,
) -> Campaign:
    """A live campaign and one pledge per account; supporters are people of ``platform``
    (``bench``: no front end reaches them, so nothing is sent to them)."""
    now = clock.now()
    campaign = await repo.add_campaign(
        Campaign(
            ref="BENCH1",
            title="Benchmark",
            message=MESSAGE,
            goal=0,
            launch_at=now + timedelta(minutes=10),
            networks=(MASTODON,),
            organiser=UserRef("bench", "1", "Organiser"),
            created_at=now,
            status=CampaignStatus.LIVE,
        )
    )
    for start in range(0, len(accounts), SEED_BATCH):  # a transaction per batch, not per row
        saved = await repo.save_accounts(
            [
                SocialAccount(
                    owner=UserRef(platform, str(1000 + n), f"S{n}"),
                    network=MASTODON,
                    instance=host,
                    remote_id=remote["id"],
                    handle=remote["username"],
                    followers=10,
                    tokens=TokenSet(access_token=remote["access_token"]),
                    linked_at=now,
                )
                for n, remote in enumerate(accounts[start : start + SEED_BATCH], start)
            ]
        )
        await repo.add_pledges(
            [
                Pledge(
                    campaign_id=campaign.id,
                    supporter=account.owner,
                    account_id=account.id,
                    network=MASTODON,
                    created_at=now,
                    delivery_mode=mode,
                )
                for account in saved
            ]
        )
    return campaign


async def baseline(url: str, accounts: list[dict[str, str]], concurrency: int) -> float:
    """N posts with a bare aiohttp loop and the same concurrency: the physical floor."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(accounts)):
        queue.put_nowait(index)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            account = accounts[index]
            async with session.post(
                f"{url}/api/v1/statuses",
                data={"status": f"baseline {index} {MESSAGE}", "visibility": "public"},
                headers={
                    "Authorization": f"Bearer {account['access_token']}",
                    "Idempotency-Key": f"baseline-{index}",
                },
            ) as response:
                await response.read()

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started


async def fake_stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_fake/stats") as r:
        return dict(await r.json())


async def prepare_and_launch(
    scheduler: Any,
    repo: Any,
    clock: FakeClock,
    campaign: Campaign,
    at_launch: Callable[[], Awaitable[None]] | None = None,
) -> tuple[float, float, float, Any, Any]:
    """Run the campaign's preparation, then its launch, through the scheduler as ``chorus
    run`` would: the preparation's seconds, the launch's monotonic start, the launch's CPU
    seconds, the blast's result and the campaign's stats; the scheduler stopped after.
    ``at_launch`` is awaited just before the launch (the workers start counting there)."""
    await scheduler.start()
    clock.set(campaign.launch_at - timedelta(minutes=5))
    started = time.perf_counter()
    await scheduler.sync()
    await scheduler.wait_idle()
    prepare_s = time.perf_counter() - started

    clock.set(campaign.launch_at)
    if at_launch is not None:
        await at_launch()
    launch, cpu = time.monotonic(), time.process_time()
    await scheduler.sync()
    await scheduler.wait_idle()
    cpu = time.process_time() - cpu
    result = scheduler.blast.results[campaign.id or 0]
    stats = await repo.campaign_stats(campaign.id or 0)
    await scheduler.stop()
    return prepare_s, launch, cpu, result, stats


def start_atproto(
    latency_ms: float, accounts: int
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The AT Protocol fakes in their own process, with ``accounts`` handles."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.atproto_world",
            "--latency-ms",
            str(latency_ms),
            "--accounts",
            str(accounts),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit("the AT Protocol fakes did not start")
    return process, json.loads(line)


LOOPBACK_URL = "http://127.0.0.1:9"  # Chorus as the loopback client: nothing to serve


async def link(linker: Any, handle: str) -> Any:
    """One supporter's whole OAuth round trip, the fake server's redirect read as a browser
    would; the linked profile."""
    url, data = await linker.authorization_url(
        state="bench", redirect_uri=linker.redirect_uri, instance=handle
    )
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(url, allow_redirects=False) as answer,
    ):
        location = answer.headers["Location"]
    returned = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    data["callback_issuer"] = returned.get("iss", "")
    return await linker.complete(
        code=returned["code"], redirect_uri=linker.redirect_uri, data=data
    )


async def seed_bluesky(
    repo: Any, clock: FakeClock, linker: Any, handles: list[str], concurrency: int
) -> Campaign:
    """A live Bluesky campaign; each handle linked through the OAuth flow and pledged."""
    now = clock.now()
    campaign = await repo.add_campaign(
        Campaign(
            ref="BENCH2",
            title="Benchmark",
            message=MESSAGE,
            goal=0,
            launch_at=now + timedelta(minutes=10),
            networks=(BLUESKY,),
            organiser=UserRef("bench", "1", "Organiser"),
            created_at=now,
            status=CampaignStatus.LIVE,
        )
    )
    gate = asyncio.Semaphore(min(concurrency, 50))

    async def linked(n: int, handle: str) -> SocialAccount:
        async with gate:
            profile = await link(linker, handle)
        return SocialAccount(
            owner=UserRef("bench", str(1000 + n), f"S{n}"),
            network=BLUESKY,
            instance=profile.instance,
            remote_id=profile.remote_id,
            handle=profile.handle,
            followers=profile.followers,
            tokens=profile.tokens,
            linked_at=now,
        )

    for start in range(0, len(handles), SEED_BATCH):
        part = handles[start : start + SEED_BATCH]
        accounts = await asyncio.gather(*(linked(start + i, h) for i, h in enumerate(part)))
        saved = await repo.save_accounts(list(accounts))
        await repo.add_pledges(
            [
                Pledge(
                    campaign_id=campaign.id,
                    supporter=account.owner,
                    account_id=account.id,
                    network=BLUESKY,
                    created_at=now,
                    delivery_mode=DeliveryMode.AUTO,
                )
                for account in saved
            ]
        )
    return campaign


async def run_bluesky(size: int, latency_ms: float, concurrency: int) -> Figures:
    from adapters.networks.bluesky_setup import build_bluesky
    from adapters.networks.bluesky_spec import BLUESKY_SPEC

    process, info = start_atproto(latency_ms, size)
    try:
        port = int(info["identity_port"])

        async def lookup(host: str, port_: int) -> list[str]:
            return ["127.0.0.1"]

        def handle_url(handle: str) -> Any:
            from yarl import URL

            return URL.build(
                scheme="http", host=handle, port=port, path="/.well-known/atproto-did"
            )

        with tempfile.TemporaryDirectory() as folder:
            repo = await open_repository(f"sqlite:///{folder}/bench.sqlite3", TokenCipher(SECRET))
            clock = FakeClock(datetime.now(UTC))
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                public_url=LOOPBACK_URL,  # the loopback client: no client documents to serve
                min_lead_minutes=0,
                blast_concurrency=concurrency,
                bluesky_delivery=DeliveryMode.AUTO,
                **info["settings"],
            )
            # the fakes run on real time (DPoP proofs carry it); the scheduler on ours
            network, linker = build_bluesky(
                settings, repo, clock=SystemClock(), lookup=lookup, handle_url=handle_url
            )
            registry = NetworkRegistry()  # as bot.runtime registers the real adapter
            registry.register(BLUESKY_SPEC, network, linker=linker, mode=DeliveryMode.AUTO)
            core = build_chorus(
                settings, repo, clock, secret=SECRET, registry=registry, card_delay_seconds=0
            )
            scheduler = core.scheduler
            started = time.perf_counter()
            campaign = await seed_bluesky(repo, clock, linker, info["handles"], concurrency)
            seed_s = time.perf_counter() - started
            prepare_s, launch, cpu, result, stats = await prepare_and_launch(
                scheduler, repo, clock, campaign
            )
            await network.aclose()
            await repo.close()
        first = (result.first_post or launch) - launch
        last = (result.last_post or launch) - launch
        posts = (await fake_stats(info["pds"]))["posts"]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return Figures(
            "bluesky",
            size,
            seed_s,
            prepare_s,
            first,
            last,
            0.0,
            stats.posted,
            posts,
            peak_mb,
            cpu * 1000 / size,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


@asynccontextmanager
async def database_url(database: str, postgres: str) -> AsyncIterator[str]:
    """A fresh database for one run: a temporary SQLite file, or a PostgreSQL schema."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import asyncpg  # only the PostgreSQL runs need the driver directly

    schema = f"chorus_blast_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in postgres else "?"
    try:
        yield f"{postgres}{separator}schema={schema}"
    finally:
        admin = await asyncpg.connect(postgres)
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # named above
        finally:
            await admin.close()


def bench_settings(concurrency: int) -> Settings:
    """The settings of every Chorus process of a Mastodon run (the leader and the workers)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        min_lead_minutes=0,
        blast_concurrency=concurrency,
        mastodon_allow_private_hosts=True,
        mastodon_delivery=DeliveryMode.AUTO,
    )


def bench_registry(
    client: str, settings: Settings, repo: Any, clock: Any, url: str
) -> tuple[NetworkRegistry, Any]:
    """The registry with the real adapter (``adapter``) or the bare port (``aiohttp``),
    registered as bot.runtime registers the real adapter; and the network, whose
    ``stamps`` say when this process posted."""
    network: Any = (
        StampedMastodon(settings, repo, clock=clock)
        if client == "adapter"
        else BareHttpMastodon(url, settings.blast_concurrency)
    )
    registry = NetworkRegistry()
    registry.register(MASTODON_SPEC, network, mode=delivery_mode(settings))
    return registry, network


def cpu_seconds() -> float:
    """User and system CPU of this process so far, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class WorkerProcess:
    """One extra Chorus process (``benchmarks.blast_worker``) posting batches of the shared
    blast: it says it is ready, counts its CPU from ``launch``, and reports at EOF."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, client: str, db_url: str, url: str, concurrency: int, launch_at: datetime
    ) -> WorkerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.blast_worker",
            "--client",
            client,
            "--database-url",
            db_url,
            "--fake-url",
            url,
            "--concurrency",
            str(concurrency),
            "--launch-at",
            launch_at.isoformat(),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"blast worker {self.process.pid} exited with {code}")
        return dict(json.loads(line))

    async def ready(self) -> None:
        await self._read()

    async def launch(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"launch\n")
        await self.process.stdin.drain()

    async def finish(self) -> dict[str, Any]:
        """Close its input (it stops its worker), then its report."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        report = await self._read()
        await self.process.wait()
        return report

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def run_one(
    client: str,
    size: int,
    latency_ms: float,
    concurrency: int,
    database: str = "sqlite",
    postgres: str = DEFAULT_POSTGRES,
    workers: int = 1,
    alone: bool = False,
) -> Figures:
    """One blast of ``size`` pledges. On PostgreSQL the queue is shared, as with ``chorus
    run``: this process (the leader) launches and posts batches with its own
    ``BlastWorker``, and ``workers - 1`` extra processes post batches too. ``alone``: no
    queue, the launch posts every pledge itself (one process; SQLite always does)."""
    if client == "bluesky":
        return await run_bluesky(size, latency_ms, concurrency)
    process, info = start_fake(latency_ms, size)
    extra: list[WorkerProcess] = []
    try:
        url, accounts = info["url"], info["accounts"]
        host = url.removeprefix("http://")
        async with database_url(database, postgres) as db_url:
            try:
                repo = await open_repository(db_url, TokenCipher(SECRET))
                clock = FakeClock(datetime.now(UTC))
                settings = bench_settings(concurrency)
                registry, network = bench_registry(client, settings, repo, clock, url)
                queue = open_blast_queue(repo)
                core = build_chorus(
                    settings,
                    repo,
                    clock,
                    secret=SECRET,
                    registry=registry,
                    card_delay_seconds=0,
                    blast_queue=None if alone else queue,
                )
                scheduler = core.scheduler
                started = time.perf_counter()
                campaign = await seed(repo, clock, host, accounts)
                seed_s = time.perf_counter() - started
                worker: BlastWorker | None = None
                if queue.shared and not alone:  # every process posts batches, as chorus run
                    extra = list(
                        await asyncio.gather(
                            *(
                                WorkerProcess.start(
                                    client, db_url, url, concurrency, campaign.launch_at
                                )
                                for _ in range(workers - 1)
                            )
                        )
                    )
                    await asyncio.gather(*(child.ready() for child in extra))
                    worker = blast_worker(settings, repo, queue, registry, clock)
                    if isinstance(queue, PostgresBlastQueue):  # woken by the split's NOTIFY
                        await queue.listen()
                    await worker.start()

                async def at_launch() -> None:
                    await asyncio.gather(*(child.launch() for child in extra))

                prepare_s, launch, cpu, _, stats = await prepare_and_launch(
                    scheduler, repo, clock, campaign, at_launch
                )
                if worker is not None:
                    await worker.stop()
                reports = list(await asyncio.gather(*(child.finish() for child in extra)))
                await queue.close()
                await network.aclose()
                await repo.close()
            finally:  # no worker left on the schema when it is dropped
                for child in extra:
                    await child.kill()

        counted = await fake_stats(url)  # before the baseline posts to the same accounts
        per_account = counted["posts_per_account"]
        base = await baseline(url, accounts, concurrency)
        stamps = [network.stamps.report(), *reports]
        firsts = [s["first"] for s in stamps if s["first"] is not None]
        lasts = [s["last"] for s in stamps if s["last"] is not None]
        first = (min(firsts) if firsts else launch) - launch
        last = (max(lasts) if lasts else launch) - launch
        total_cpu = cpu + sum(report["cpu_s"] for report in reports)
        return Figures(
            client,
            size,
            seed_s,
            prepare_s,
            first,
            last,
            base,
            stats.posted,
            counted["posts"],
            peak_mb(),
            total_cpu * 1000 / size,
            database,
            workers,
            queue.shared and not alone,
            peaks_mb=[peak_mb(), *(report["peak_mb"] for report in reports)],
            posted_by=[int(s["posted"]) for s in stamps],
            twice=sum(1 for n in per_account.values() if n > 1),
            missing=size - len(per_account),
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--concurrency", type=int, default=200, help="BLAST_CONCURRENCY (default 200)"
    )
    parser.add_argument(
        "--client",
        choices=("adapter", "aiohttp", "both", "bluesky"),
        default="both",
        help="the real Mastodon adapter (MastodonNetwork), a bare aiohttp port, or both",
    )
    parser.add_argument(
        "--network",
        choices=("mastodon", "bluesky"),
        default="mastodon",
        help="mastodon (default) or bluesky: the real adapter against the AT Protocol fakes",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the campaign and its pledges live (default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="PostgreSQL server for --database postgresql (a schema is made and dropped)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="Chorus processes sharing the blast (PostgreSQL only for more than 1)",
    )
    parser.add_argument(
        "--alone",
        action="store_true",
        help="PostgreSQL, one process: no shared queue, the launch posts every pledge itself "
        "(as before the shared blast, and as on SQLite); for comparison",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if any(workers < 1 for workers in args.workers):
        parser.error("--workers: each count must be at least 1")
    if args.alone and args.workers != [1]:
        parser.error("--alone: one process, so --workers 1")
    if any(size < 1 for size in args.sizes):
        parser.error("--sizes: each size must be at least 1")
    if args.network == "bluesky":
        args.client = "bluesky"
    logging.basicConfig(level=os.environ.get("BENCH_LOG", "WARNING"))
    if args.one:
        figures = asyncio.run(
            run_one(
                args.client,
                args.one,
                args.latency_ms,
                args.concurrency,
                args.database,
                args.postgres,
                args.workers[0],
                args.alone,
            )
        )
        print(json.dumps(figures.__dict__), flush=True)
        return
    engine = "PostgreSQL" if args.database == "postgresql" else "SQLite"
    print(
        f"blast benchmark: latency {args.latency_ms:g} ms, concurrency {args.concurrency}, "
        f"{engine}, loopback {args.network} over HTTP, {os.cpu_count()} CPUs"
    )
    clients = ("aiohttp", "adapter") if args.client == "both" else (args.client,)
    for workers in args.workers:
        if workers > 1 and (args.database != "postgresql" or args.network != "mastodon"):
            print(f"{args.database:<10} x{workers} | {ONE_PROCESS_ONLY}", flush=True)
            continue
        run_sizes(args, clients, workers)


def run_sizes(args: argparse.Namespace, clients: tuple[str, ...], workers: int) -> None:
    """One child process per size and client, so each one's peak memory is its own."""
    for size, client in ((size, client) for size in args.sizes for client in clients):
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--client",
                client,
                "--one",
                str(size),
                "--latency-ms",
                str(args.latency_ms),
                "--concurrency",
                str(args.concurrency),
                "--database",
                args.database,
                "--postgres",
                args.postgres,
                "--workers",
                str(workers),
                *(["--alone"] if args.alone else []),
            ],
            capture_output=True,
            text=True,
        )
        if child.returncode != 0:
            print(f"x{workers} {client:<11} {size:>7} | failed:\n{child.stderr[-2000:]}")
            continue
        data = json.loads(child.stdout.strip().splitlines()[-1])
        print(Figures(**data).line(), flush=True)


if __name__ == "__main__":
    main()
