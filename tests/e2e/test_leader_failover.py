"""Three ``chorus run`` on one PostgreSQL schema: one leads; SIGKILL it, another takes over.

The deployment is seeded with a live campaign launching in an hour and a few hundred
pledges on a loopback Mastodon. Three processes start; exactly one holds the leadership
(its log says so, and the server shows one advisory lock). Then the launch is moved a few
seconds ahead in the database only, so the timer the leader armed is stale and only a
process that re-reads the database can fire it, and the leader is SIGKILLed. One of the
two others must take over, arm the launch and blast: at the fake, every pledge is posted
exactly once. A second campaign, approved afterwards from outside the leader (as a
follower does), reaches the new leader through NOTIFY and fires once too.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from adapters.networks.mastodon import MASTODON
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from storage import open_leadership, open_repository
from storage.leadership import LEADER_LOCK
from tests.e2e.test_crash_recovery import GUARD, SECRET, chorus_env, start_chorus, wait_for
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.conftest import _postgres_admin, postgres_url, with_schema

pytestmark = pytest.mark.postgres
PROCESSES = 3
PLEDGES = 300
LATENCY_MS = 10
LAUNCH_AHEAD = timedelta(seconds=4)
LEADS = "this process leads"
ORGANISER = UserRef("console", "organiser", "Olga")
MODERATOR = UserRef("console", "moderator", "Mo")


@pytest.fixture
async def schema_url() -> AsyncIterator[tuple[str, str]]:
    admin = await _postgres_admin()
    schema = f"chorus_e2e_{uuid.uuid4().hex[:16]}"
    try:
        yield with_schema(postgres_url(), schema), schema
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    server = FakeMastodon(latency_ms=LATENCY_MS)
    server.record_requests = False
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def core_settings() -> Settings:
    return Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]


async def approve(
    repo: Repository, title: str, launch_at: datetime, leadership: object
) -> Campaign:
    """A campaign submitted and approved through the core, as a process's services do."""
    core = build_chorus(
        core_settings(),
        repo,
        SystemClock(),
        secret=SECRET,
        leadership=leadership,  # type: ignore[arg-type]
    )
    draft = CampaignDraft(
        title=title,
        message=f"{title} #ChorusLeads https://chorus.example/leads",
        goal=0,
        launch_at=launch_at,
        networks=(MASTODON,),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)


async def pledge_all(repo: Repository, fake: FakeMastodon, campaign: Campaign, tag: str) -> None:
    now = datetime.now(UTC)
    for n, remote in enumerate(fake.create_accounts(PLEDGES)):
        person = UserRef("console", f"{tag}{n}", f"Supporter {tag}{n}")
        account = await repo.save_account(
            SocialAccount(
                owner=person,
                network=MASTODON,
                instance=fake.host,
                remote_id=remote["id"],
                handle=remote["username"],
                followers=1,
                tokens=TokenSet(access_token=remote["access_token"]),
                linked_at=now,
            )
        )
        assert account.id is not None and campaign.id is not None
        await repo.add_pledge(
            Pledge(
                campaign_id=campaign.id,
                supporter=person,
                account_id=account.id,
                network=MASTODON,
                created_at=now,
                delivery_mode=DeliveryMode.AUTO,
            )
        )


def leaders(tmp_path: Path, names: Sequence[str]) -> list[str]:
    return [name for name in names if LEADS in (tmp_path / f"{name}.log").read_text("utf-8")]


def running(tmp_path: Path, names: Sequence[str]) -> bool:
    return all(
        "chorus is running" in (tmp_path / f"{name}.log").read_text("utf-8") for name in names
    )


async def lock_holders(schema: str) -> int:
    admin = await asyncpg.connect(postgres_url())
    try:
        count: int = await admin.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 2 AND classid = $1::bigint::oid AND objid = hashtext($2)::oid",
            LEADER_LOCK,
            schema,
        )
        return count
    finally:
        await admin.close()


async def test_the_leader_is_killed_another_takes_over_and_each_timer_fires_once(
    tmp_path: Path, fake: FakeMastodon, schema_url: tuple[str, str]
) -> None:
    database_url, schema = schema_url
    repo = await open_repository(database_url, TokenCipher(SECRET))
    processes: dict[str, asyncio.subprocess.Process] = {}
    try:
        first = await approve(
            repo, "First", datetime.now(UTC) + timedelta(hours=1), leadership=None
        )
        assert first.id is not None
        await pledge_all(repo, fake, first, "a")
        env = chorus_env(tmp_path, database_url) | {"LEADER_POLL_SECONDS": "1"}
        names = [f"process-{n}" for n in range(PROCESSES)]
        for name in names:
            processes[name] = await start_chorus(tmp_path, env, name)

        await wait_for(lambda: running(tmp_path, names), "every process to run")
        await wait_for(lambda: leaders(tmp_path, names), "a leader")
        [leader] = leaders(tmp_path, names)
        assert await lock_holders(schema) == 1

        # only the database knows the new moment: the leader's timer still says in an hour
        stored = await repo.get_campaign(first.id)
        assert stored is not None
        await repo.update_campaign(replace(stored, launch_at=datetime.now(UTC) + LAUNCH_AHEAD))
        processes[leader].send_signal(signal.SIGKILL)
        await processes[leader].wait()
        survivors = [name for name in names if name != leader]

        await wait_for(lambda: leaders(tmp_path, survivors), "another process to take over")
        [successor] = leaders(tmp_path, survivors)
        assert await lock_holders(schema) == 1

        async def reported(campaign: Campaign) -> bool:
            return await repo.event_claimed(campaign.id or 0, EventKind.REPORT_DONE)

        await wait_for(lambda: reported(first), "the first campaign's blast and report")

        # a change made outside the leader (as in a follower) reaches it through NOTIFY
        claim = open_leadership(database_url)
        try:
            second = await approve(
                repo, "Second", datetime.now(UTC) + timedelta(hours=1), leadership=claim
            )
            await pledge_all(repo, fake, second, "b")
            stored = await repo.get_campaign(second.id or 0)
            assert stored is not None
            moved = await repo.update_campaign(
                replace(stored, launch_at=datetime.now(UTC) + LAUNCH_AHEAD)
            )
            await claim.announce(moved.id or 0)
        finally:
            await claim.close()
        await wait_for(lambda: reported(second), "the second campaign's blast and report")

        for name in survivors:
            processes[name].send_signal(signal.SIGTERM)
        for name in survivors:
            assert await asyncio.wait_for(processes[name].wait(), GUARD) == 0, name

        # at the network: one status per account of both campaigns, none twice
        assert len(fake.posts) == 2 * PLEDGES
        assert set(fake.posts.values()) == {1}
        for campaign in (first, second):
            stats = await repo.campaign_stats(campaign.id or 0)
            assert (stats.supporters, stats.posted, stats.failed) == (PLEDGES, PLEDGES, 0)
        logs = {name: (tmp_path / f"{name}.log").read_text("utf-8") for name in names}
        assert "Traceback" not in logs[successor], logs[successor]
        assert leaders(tmp_path, survivors) == [successor]  # the third never led
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
        await repo.close()
