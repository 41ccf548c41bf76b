"""Benchmark of a ``tap`` launch through a Telegram that enforces its flood limit.

Every supporter of a ``tap`` campaign gets a private message with their one-tap link at
the launch. Telegram lets a bot send about 30 messages a second overall and answers
``429`` with ``retry_after`` beyond; so the best a launch to N supporters can do is N/30
seconds. This runs Chorus as ``chorus run`` wires Telegram (python-telegram-bot with its
``AIORateLimiter``) against the loopback Telegram of ``benchmarks/telegram_wire.py`` in
its own process, made to refuse more than ``--limit`` messages in any second, and reports
the spread (first to last offer) against N/limit, the 429s it gave, and whether every
supporter got their offer exactly once (no 429 lost, none doubled).

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
            started = time.perf_counter()
            clock.set(campaign.launch_at)
            await scheduler.sync()
            await scheduler.wait_idle()  # the offers are out; the report waits for taps
            elapsed = time.perf_counter() - started
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
        "spread_s": spread,
        "ideal_s": args.size / args.limit,
        "sent": stats["sent"],
        "chats": stats["chats"],
        "twice": stats["twice"],
        "refused": stats["refused"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="supporters (tap pledges)")
    parser.add_argument("--limit", type=int, default=30, help="Telegram's messages per second")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if args.size < 1 or args.limit < 1:
        parser.error("--size and --limit must be at least 1")
    logging.basicConfig(level=logging.WARNING)
    f = asyncio.run(measure(args))
    missing = f["size"] - f["chats"]
    print(
        f"tap launch on {args.database}, {os.cpu_count()} CPUs: {f['size']} supporters, "
        f"Telegram limit {f['limit']}/s\n"
        f"  spread {f['spread_s']:.1f} s (first to last offer) vs ideal {f['ideal_s']:.1f} s: "
        f"{f['spread_s'] / f['ideal_s']:.3f}x | launch to idle {f['elapsed_s']:.1f} s\n"
        f"  offers {f['sent']} to {f['chats']} people: {missing} missing, "
        f"{f['twice']} twice | 429s given {f['refused']}"
    )


if __name__ == "__main__":
    main()
