"""Three ``chorus run`` processes on one PostgreSQL share a blast; one is SIGKILLed midway.

The database is seeded with a live campaign launching a few seconds ahead and 2,000
pledges on the loopback Mastodon (with latency, so the blast takes a while). Three
processes start on the same database. Leader election is not on this branch, so every
process's scheduler fires the launch: the goal is decided under the campaign's row lock,
one split makes the batches (the others find them stored) and every process's
``BlastWorker`` claims batches. Once posts are arriving one process is SIGKILLed with a
batch in hand; when its lease runs out another process takes the batch over and
reconciles it. At the fake, which counts distinct statuses per account (the same
Idempotency-Key never makes a second one), every account ends with exactly one status;
the report is claimed once, after every batch is done.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.events import EventKind
from bot.domain.pledge import PledgeStatus
from storage import open_repository
from tests.e2e.test_crash_recovery import (
    GUARD,
    PLEDGES,
    SECRET,
    chorus_env,
    fake,
    seed,
    start_chorus,
    wait_for,
)
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.conftest import _postgres_admin, postgres_url, with_schema

__all__ = ["fake"]  # the loopback Mastodon fixture, shared with the crash test

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    admin = await _postgres_admin()
    schema = f"chorus_e2e_{uuid.uuid4().hex[:16]}"
    try:
        yield with_schema(postgres_url(), schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()


async def test_three_processes_share_a_blast_and_survive_one_killed(
    tmp_path: Path, fake: FakeMastodon, database_url: str
) -> None:
    repo = await open_repository(database_url, TokenCipher(SECRET))
    processes: list[asyncio.subprocess.Process] = []
    try:
        campaign = await seed(repo, fake)
        assert campaign.id is not None
        env = chorus_env(tmp_path, database_url)
        for n in range(3):
            processes.append(await start_chorus(tmp_path, env, f"process-{n}"))

        async def holder() -> int | None:
            """A process holding a batch while posts arrive (the one to kill)."""
            if sum(fake.posts.values()) < 100:
                return None
            async with repo.transaction() as db:  # type: ignore[attr-defined]
                found = await db.fetch_all(
                    "SELECT owner FROM blast_batches WHERE campaign_id = $1 AND state = 'claimed'",
                    campaign.id,
                )
            owners = {row["owner"][:8] for row in found}
            for n in range(len(processes)):
                log = (tmp_path / f"process-{n}.log").read_text(encoding="utf-8")
                if any(f"blast worker {owner} started" in log for owner in owners):
                    return n + 1  # truthy for wait_for
            return None

        victim_number = int(str(await wait_for(holder, "a process posting a batch"))) - 1
        victim = processes[victim_number]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        at_kill = sum(fake.posts.values())
        assert 0 < at_kill < PLEDGES, at_kill

        async def reported() -> bool:
            return await repo.event_claimed(campaign.id or 0, EventKind.REPORT_DONE)

        await wait_for(reported, "the others to finish the blast and report")
        survivors = [n for n in range(len(processes)) if n != victim_number]
        for n in survivors:
            process = processes[n]
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), GUARD) == 0
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    try:
        # at the network: one status per account, none twice, none missing
        assert len(fake.posts) == PLEDGES
        assert set(fake.posts.values()) == {1}
        done = await repo.get_campaign(campaign.id)
        assert done is not None and done.status is CampaignStatus.LAUNCHED
        pledges = await repo.pledges_of_campaign(campaign.id)
        assert {p.status for p in pledges} == {PledgeStatus.POSTED}
        assert await repo.count_events(campaign.id, EventKind.REPORT) == 1
        logs = "".join((tmp_path / f"process-{n}.log").read_text(encoding="utf-8") for n in (1, 2))
        assert "reclaimed" in logs  # the killed process's batch was taken over
    finally:
        await repo.close()
