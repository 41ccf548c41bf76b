"""What asking who a recruit code names costs on a campaign of 50,000 supporters.

Run from the repository root: ``.venv/bin/python -m benchmarks.recruit_lookup [count]
[--lookups N]``. Every public page view with a ``via`` code, every web pledge and every chat
pledge with a code asks ``RecruitCodes.recruiter``; anyone can send made-up codes, so the
figure that matters is a miss. Pledges are seeded through ``add_pledges`` with no code (as
pledges stored before the code was), so the first miss includes coding them all, once; then
misses (random well-formed codes) and hits are timed: wall time and this process's CPU time
per lookup (PostgreSQL's own CPU is not in the latter).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from adapters.networks.mastodon import MASTODON
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.services.recruits import RecruitCodes
from storage import open_repository

T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
SECRET = "benchmark-secret-not-real-0123456789"
CIPHER = TokenCipher(SECRET)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


async def _seed(repo: object, campaign_id: int, count: int) -> list[UserRef]:
    people = [UserRef("telegram", str(i), f"user{i}") for i in range(count)]
    accounts = [
        SocialAccount(
            owner=who,
            network=MASTODON,
            instance="bench.example",
            remote_id=who.id,
            handle=f"u{who.id}",
            followers=1,
            tokens=TokenSet("bench-token-not-real"),
            linked_at=T0,
        )
        for who in people
    ]
    saved = await repo.save_accounts(accounts)  # type: ignore[attr-defined]
    await repo.add_pledges(  # type: ignore[attr-defined]
        [
            Pledge(
                campaign_id=campaign_id,
                supporter=who,
                account_id=account.id,
                network=MASTODON,
                created_at=T0,
                delivery_mode=DeliveryMode.AUTO,
            )
            for who, account in zip(people, saved, strict=True)
        ]
    )
    return people


async def _per_call(label: str, name: str, calls: list[Callable[[], Awaitable[object]]]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    for call in calls:
        await call()
    n = len(calls)
    wall_ms = (time.perf_counter() - wall) * 1000 / n
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    print(f"{name:8} {label:14} {n:5} x  wall {wall_ms:9.3f} ms  cpu {cpu_ms:9.3f} ms per lookup")


async def _run(name: str, url: str, count: int, lookups: int) -> None:
    repo = await open_repository(url, CIPHER)
    try:
        campaign = await repo.add_campaign(
            Campaign(
                ref="BENCH3",
                title="Benchmark",
                message="Benchmark #bench",
                goal=0,
                launch_at=T0 + timedelta(days=1),
                networks=(MASTODON,),
                organiser=UserRef("telegram", "0"),
                created_at=T0,
                status=CampaignStatus.LIVE,
            )
        )
        people = await _seed(repo, campaign.id or 0, count)
        codes = RecruitCodes(SECRET, repo)
        rng = random.Random(7)

        def forged() -> str:
            return "".join(rng.choice(ALPHABET) for _ in range(8))

        await _per_call("first miss", name, [lambda: codes.recruiter(campaign, forged())])
        misses = [forged() for _ in range(lookups)]
        await _per_call("miss", name, [lambda c=c: codes.recruiter(campaign, c) for c in misses])
        hits = [codes.code(campaign.ref, rng.choice(people)) for _ in range(lookups)]
        await _per_call("hit", name, [lambda c=c: codes.recruiter(campaign, c) for c in hits])
    finally:
        await repo.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int, nargs="?", default=50_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    print(f"{args.count} supporters")
    await _run("sqlite", "sqlite:///:memory:", args.count, args.lookups)
    schema = f"chorus_bench_{uuid.uuid4().hex[:12]}"
    try:
        await _run("postgres", f"{args.postgres}?schema={schema}", args.count, args.lookups)
    finally:
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # built above
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
