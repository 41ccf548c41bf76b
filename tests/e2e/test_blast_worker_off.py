"""BLAST_WORKER=false: a process that takes no blast batches, while another posts them all.

Two ``chorus run`` on one PostgreSQL schema, the first (the leader) with BLAST_WORKER=false.
A campaign of a few hundred auto pledges launches: the leader fires the launch and splits
the blast into batches, and every batch is claimed and posted by the second process; at the
loopback Mastodon every pledge is posted exactly once, and the report still comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.events import EventKind
from storage import open_leadership, open_repository
from tests.e2e.cluster import LEADS, RUNNING, approve, fresh_schema, log_of, pledge_all
from tests.e2e.test_crash_recovery import GUARD, SECRET, chorus_env, start_chorus, wait_for
from tests.e2e.test_debug_logs import stop
from tests.e2e.test_scale_out_proof import move_launch
from tests.fakes.mastodon_api import FakeMastodon

pytestmark = pytest.mark.postgres
PLEDGES = 300


@pytest.fixture
async def mastodon() -> AsyncIterator[FakeMastodon]:
    server = FakeMastodon(latency_ms=20)
    server.record_requests = False
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def test_a_process_with_blast_worker_off_posts_nothing(
    tmp_path: Path, mastodon: FakeMastodon
) -> None:
    async with fresh_schema() as (database_url, _):
        repo = await open_repository(database_url, TokenCipher(SECRET))
        await repo.migrate()
        later = datetime.now(UTC) + timedelta(hours=3)
        campaign = await approve(repo, "Worker off", later)
        await pledge_all(repo, mastodon, campaign, PLEDGES, "w")
        env = chorus_env(tmp_path, database_url) | {"LEADER_POLL_SECONDS": "1"}
        first = await start_chorus(tmp_path, env | {"BLAST_WORKER": "false"}, "first")
        second: asyncio.subprocess.Process | None = None
        try:
            await wait_for(lambda: RUNNING in log_of(tmp_path, "first"), "first", first)
            assert LEADS in log_of(tmp_path, "first")
            assert "posts no blast batches" in log_of(tmp_path, "first")
            second = await start_chorus(tmp_path, env, "second")
            await wait_for(lambda: RUNNING in log_of(tmp_path, "second"), "second", second)
            assert "blast worker" in log_of(tmp_path, "second")

            moved = await move_launch(repo, campaign, timedelta(seconds=2))
            claim = open_leadership(database_url)
            try:
                await claim.announce(moved.id or 0)
            finally:
                await claim.close()

            async def reported() -> bool:
                return await repo.event_claimed(campaign.id or 0, EventKind.REPORT_DONE)

            deadline = asyncio.get_running_loop().time() + GUARD
            while not await reported():
                assert asyncio.get_running_loop().time() < deadline, "no report"
                await asyncio.sleep(0.5)
        finally:
            await stop(first)
            if second is not None:
                await stop(second)
        try:
            assert len(mastodon.posts) == PLEDGES and set(mastodon.posts.values()) == {1}
            done = await repo.get_campaign(campaign.id or 0)
            assert done is not None and done.status is CampaignStatus.LAUNCHED
            async with repo.transaction() as db:  # type: ignore[attr-defined]
                owners = await db.fetch_all(
                    "SELECT DISTINCT owner FROM blast_batches WHERE campaign_id = $1",
                    campaign.id,
                )
            assert len(owners) == 1  # the second process's worker, the only one
            (owner,) = (row["owner"] for row in owners)
            assert f"blast worker {owner[:8]} started" in log_of(tmp_path, "second")
            assert "blast worker" not in log_of(tmp_path, "first")
        finally:
            await repo.close()
