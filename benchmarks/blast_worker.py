"""One extra Chorus process of the blast benchmark: a ``BlastWorker`` and nothing else.

``benchmarks/blast.py --database postgresql --workers N`` starts N-1 of these next to its
own process (the leader, which launches and posts batches too, as ``chorus run`` does with
a shared queue). Each builds its settings, registry and Mastodon network exactly as the
leader does (``bench_settings``, ``bench_registry``), opens the same PostgreSQL schema and
claims batches of the shared blast from ``blast_batches`` until told to stop.

The leader talks to it over its standard input and output, one JSON line each way:
it prints ``{"ready": true}`` once its worker is listening for batches; the line
``launch`` on its input marks the launch (its CPU is counted from there, so start-up and
imports are not); at the end of its input it stops its worker, closes everything and
prints its report: CPU seconds since the launch (``getrusage``, every thread), peak
memory, and when its own posts succeeded (``time.monotonic``, the machine's one clock).

    python -m benchmarks.blast_worker --database-url URL --fake-url URL --launch-at ISO
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import datetime
from typing import Any

from benchmarks.blast import SECRET, bench_registry, bench_settings, cpu_seconds, peak_mb
from bot.crypto import TokenCipher
from bot.runtime import blast_worker
from bot.testing.clock import FakeClock
from storage import open_repository
from storage.blast_queue import PostgresBlastQueue, open_blast_queue


def say(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


async def work(args: argparse.Namespace) -> None:
    settings = bench_settings(args.concurrency)
    clock = FakeClock(datetime.fromisoformat(args.launch_at))  # the leader's launch moment
    repo = await open_repository(args.database_url, TokenCipher(SECRET), migrate=False)
    registry, network = bench_registry(args.client, settings, repo, clock, args.fake_url)
    queue = open_blast_queue(repo)
    worker = blast_worker(settings, repo, queue, registry, clock)
    if isinstance(queue, PostgresBlastQueue):  # woken by the split's NOTIFY from the start
        await queue.listen()
    await worker.start()
    say({"ready": True})
    started = cpu_seconds()
    while line := await asyncio.to_thread(sys.stdin.readline):
        if line.strip() == "launch":
            started = cpu_seconds()
    await worker.stop()
    await queue.close()
    await network.aclose()
    await repo.close()
    say(
        {
            "cpu_s": cpu_seconds() - started,
            "peak_mb": peak_mb(),
            "batches": worker.batches_done,
            **network.stamps.report(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=("adapter", "aiohttp"), default="adapter")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fake-url", required=True)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--launch-at", required=True, help="the campaign's launch, ISO 8601")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("BENCH_LOG", "WARNING"))  # to stderr
    asyncio.run(work(args))


if __name__ == "__main__":
    main()
