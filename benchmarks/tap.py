"""Benchmark of a ``tap`` launch through a Telegram that enforces its flood limit.

Every supporter of a ``tap`` campaign gets a private message with their one-tap link at
the launch. Telegram lets a bot send about 30 messages a second overall and answers
``429`` with ``retry_after`` beyond; so the best a launch to N supporters can do is N/30
seconds. This runs Chorus as ``chorus run`` wires Telegram (python-telegram-bot with
Chorus's ``PacedRateLimiter``) against the loopback Telegram of
``benchmarks/telegram_wire.py`` in its own process, made to refuse more than ``--limit``
messages in any second, and reports the spread (first to last offer) against N/limit,
the 429s it gave, whether every supporter got their offer exactly once (no 429 lost,
none doubled), and the CPU time this process spent per offer (which load does not
distort, unlike the spread). ``--pace`` tries another fraction of the limit.

    .venv/bin/python -m benchmarks.tap                   # 1,000 supporters: about 33 s
    .venv/bin/python -m benchmarks.tap --size 10000      # the issue's 10,000: about 333 s

A script printing figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.networks.mastodon import MASTODON_SPEC, MastodonNetwork
from adapters.telegram import rate_limiter
from benchmarks.blast import DEFAULT_POSTGRES, SECRET, database_url, seed, start_fake
from benchmarks.replies import _get, start_module, stop
from bot.app import build_chorus
from bot.crypto import TokenCipher
from bot.domain.networks import DeliveryMode
from bot.registry import NetworkRegistry
from bot.runtime import chat_platforms
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    telegram_process, telegram = start_module(
        "benchmarks.telegram_wire", "--max-per-second", str(args.limit)
    )
    mastodon_process, info = start_fake(0, args.size)
    try:
        url, accounts = info["url"], info["accounts"]
        async with database_url(args.database, args.postgres) as db_url:
            repo = await open_repository(db_url, TokenCipher(SECRET))
            clock = FakeClock(datetime.now(UTC))
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                telegram_bot_token=telegram["token"],
                telegram_api_url=telegram["url"],
                min_lead_minutes=0,
                mastodon_allow_private_hosts=True,
                mastodon_delivery=DeliveryMode.TAP,
            )
            (platform,) = chat_platforms(settings)
            network = MastodonNetwork(settings, repo, clock=clock)
            registry = NetworkRegistry()
            registry.register(MASTODON_SPEC, network, mode=DeliveryMode.TAP)
            core = build_chorus(
                settings,
                repo,
                clock,
                secret=SECRET,
                registry=registry,
                front_ends=[platform.outbound],
                card_delay_seconds=0,
            )
            inbound = platform.inbound(core.chat)
            await inbound.start()
            campaign = await seed(
                repo,
                clock,
                url.removeprefix("http://"),
                accounts,
                platform="telegram",
                mode=DeliveryMode.TAP,
            )
            scheduler = core.scheduler
            await scheduler.start()
            clock.set(campaign.launch_at - timedelta(minutes=5))
            await scheduler.sync()
            await scheduler.wait_idle()
            lags: list[float] = []
            monitor = asyncio.create_task(_loop_lag(lags))
            started, cpu = time.perf_counter(), time.process_time()
            clock.set(campaign.launch_at)
            await scheduler.sync()
            await scheduler.wait_idle()  # the offers are out; the report waits for taps
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            monitor.cancel()
            limiter = getattr(getattr(platform.outbound, "bot", None), "rate_limiter", None)
            retried = getattr(limiter, "refusals", None)
            stats = await _get(telegram["url"], "/_bench/stats")
            await scheduler.stop()
            await inbound.stop()
            await network.aclose()
            await repo.close()
    finally:
        stop(telegram_process)
        stop(mastodon_process)
    spread = (stats["last_send"] or 0.0) - (stats["first_send"] or 0.0)
    return {
        "size": args.size,
        "limit": args.limit,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "loop_lag": sorted(lags),
        "retried": retried,
        "spread_s": spread,
        "ideal_s": args.size / args.limit,
        "sent": stats["sent"],
        "chats": stats["chats"],
        "twice": stats["twice"],
        "refused": stats["refused"],
        "refused_spans": stats["refused_spans"],
    }


async def _loop_lag(lags: list[float], every: float = 0.01) -> None:
    """How late this event loop wakes a 10 ms sleep (the limiter's slots wait the same)."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - before - every)


def _at(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="supporters (tap pledges)")
    parser.add_argument("--limit", type=int, default=30, help="Telegram's messages per second")
    parser.add_argument(
        "--pace", type=float, help=f"fraction of the limit to send at ({rate_limiter.PACE})"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if args.size < 1 or args.limit < 1:
        parser.error("--size and --limit must be at least 1")
    if args.pace is not None:
        if not 0 < args.pace <= 1:
            parser.error("--pace must be within (0, 1]")
        rate_limiter.PACE = args.pace
    logging.basicConfig(level=logging.WARNING)
    f = asyncio.run(measure(args))
    missing = f["size"] - f["chats"]
    lag = [x * 1000 for x in f["loop_lag"]]
    print(
        f"tap launch on {args.database}, {os.cpu_count()} CPUs: {f['size']} supporters, "
        f"Telegram limit {f['limit']}/s, pace {rate_limiter.PACE}\n"
        f"  spread {f['spread_s']:.1f} s (first to last offer) vs ideal {f['ideal_s']:.1f} s: "
        f"{f['spread_s'] / f['ideal_s']:.3f}x | launch to idle {f['elapsed_s']:.1f} s\n"
        f"  offers {f['sent']} to {f['chats']} people: {missing} missing, "
        f"{f['twice']} twice | 429s given {f['refused']}, met by the limiter {f['retried']}\n"
        f"  at each 429 the last {f['limit']} accepted spanned "
        f"{', '.join(f'{s * 1000:.0f}' for s in f['refused_spans']) or '-'} ms\n"
        f"  event loop late by p50 {_at(lag, 0.5):.0f} / p99 {_at(lag, 0.99):.0f} / "
        f"max {_at(lag, 1.0):.0f} ms\n"
        f"  CPU {f['cpu_s']:.1f} s in this process: {f['cpu_s'] / f['size'] * 1000:.2f} ms "
        f"per offer | load average {_loadavg()}"
    )


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as file:
            return " ".join(file.read().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
