"""How long the blast's bulk storage calls take for 100,000 pledges, on both back ends.

Run from the repository root: ``.venv/bin/python -m benchmarks.storage_bulk [count]``.
Rows are seeded straight through the driver (100,000 single inserts would time the seeding,
not the calls the blast makes); then ``pledges_of_campaign``, ``set_delivery``,
``record_deliveries`` and ``campaign_stats`` are timed through the Repository.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from adapters.networks.mastodon import MASTODON
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus, change_status
from bot.domain.refs import UserRef
from storage import open_repository

T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
CIPHER = TokenCipher("benchmark-secret-not-real")


def _fixtures(campaign_id: int, count: int) -> tuple[list[SocialAccount], list[Pledge]]:
    accounts, pledges = [], []
    for i in range(count):
        owner = UserRef("telegram", str(i), f"user{i}")
        accounts.append(
            SocialAccount(
                owner=owner,
                network=MASTODON,
                instance="bench.example",
                remote_id=str(i),
                handle=f"u{i}",
                followers=i % 1000,
                tokens=TokenSet("bench-token-not-real"),
                linked_at=T0,
            )
        )
        pledges.append(
            Pledge(
                campaign_id=campaign_id,
                supporter=owner,
                account_id=i + 1,
                network=MASTODON,
                created_at=T0,
                delivery_mode=DeliveryMode.AUTO,
            )
        )
    return accounts, pledges


async def _run(name: str, url: str, count: int) -> None:
    repo = await open_repository(url, CIPHER)
    try:
        campaign = await repo.add_campaign(
            Campaign(
                ref="BENCH2",
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
        assert campaign.id is not None

        async def timed(label: str, call: Any) -> Any:
            start = time.perf_counter()
            result = await call
            print(f"{name:8} {label:22} {time.perf_counter() - start:7.3f} s")
            return result

        accounts, pledges = _fixtures(campaign.id, count)
        await timed("save_accounts", repo.save_accounts(accounts))
        await timed("add_pledges", repo.add_pledges(pledges))

        loaded = await timed("pledges_of_campaign", repo.pledges_of_campaign(campaign.id))
        ids = [p.id for p in loaded]
        await timed(
            "set_delivery",
            repo.set_delivery(ids, DeliveryState.QUEUED, expected=DeliveryState.WAITING),
        )
        results = [
            replace(change_status(p, PledgeStatus.POSTED, at=T0), remote_post_id=str(p.id))
            for p in loaded
        ]
        await timed("record_deliveries", repo.record_deliveries(results))
        stats = await timed("campaign_stats", repo.campaign_stats(campaign.id))
        assert stats.posted == count, stats
    finally:
        await repo.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    await _run("sqlite", "sqlite:///:memory:", args.count)
    schema = f"chorus_bench_{uuid.uuid4().hex[:12]}"
    try:
        await _run("postgres", f"{args.postgres}?schema={schema}", args.count)
    finally:
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # built above
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
