"""Kill ``chorus run`` in the middle of a blast, start it again: every pledge posted once.

The database is seeded with a live campaign launching a few seconds ahead and 2,000
pledges on a loopback Mastodon (with latency, so the blast takes a while). The process
is SIGKILLed once some but not all statuses have arrived, then started again; it must
resume the blast, and the fake, which counts distinct statuses per account (the same
Idempotency-Key never makes a second one), must end with exactly one status for each
account. The stored figures and the report event must agree.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.networks.mastodon import MASTODON
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from storage import open_repository
from tests.fakes.mastodon_api import FakeMastodon

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-not-real-0123456789abcdef"
PLEDGES = 2000
LATENCY_MS = 40
LAUNCH_AHEAD = timedelta(seconds=6)
GUARD = 180.0  # seconds before a stuck wait gives up (a guard, not a speed check)
ORGANISER = UserRef("console", "organiser", "Olga")
MODERATOR = UserRef("console", "moderator", "Mo")
MESSAGE = "Crash-proof #ChorusCrash https://chorus.example/crash"


def chorus_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
        DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        MASTODON_ALLOW_PRIVATE_HOSTS="true",
        MASTODON_DELIVERY="auto",
        WEB_PORT="0",
        MIN_LEAD_MINUTES="0",
        BLAST_CONCURRENCY="20",
        LOG_LEVEL="INFO",
    )
    return env


async def start_chorus(
    tmp_path: Path, env: dict[str, str], name: str
) -> asyncio.subprocess.Process:
    log = (tmp_path / f"{name}.log").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )


async def wait_for(
    condition: Callable[[], object],
    what: str,
    process: asyncio.subprocess.Process | None = None,
) -> object:
    """Poll ``condition`` (sync or async) until truthy; fail with ``what`` after GUARD s."""
    deadline = asyncio.get_running_loop().time() + GUARD
    while asyncio.get_running_loop().time() < deadline:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if process is not None and process.returncode is not None:
            pytest.fail(f"chorus exited with {process.returncode} while waiting for {what}")
        await asyncio.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    server = FakeMastodon(latency_ms=LATENCY_MS)
    server.record_requests = False
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def seed(repo: Repository, fake: FakeMastodon) -> Campaign:
    """A live campaign (through the core's services) and 2,000 pledges (repository)."""
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, SystemClock(), secret=SECRET)
    draft = CampaignDraft(
        title="Crash test",
        message=MESSAGE,
        goal=PLEDGES,
        launch_at=datetime.now(UTC) + timedelta(hours=1),
        networks=(MASTODON,),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    assert submitted.id is not None
    live = await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)
    now = datetime.now(UTC)
    for n, remote in enumerate(fake.create_accounts(PLEDGES)):
        person = UserRef("console", f"s{n}", f"Supporter {n}")
        fake.users[remote["id"]].followers = n % 7
        account = await repo.save_account(
            SocialAccount(
                owner=person,
                network=MASTODON,
                instance=fake.host,
                remote_id=remote["id"],
                handle=remote["username"],
                followers=n % 7,
                tokens=TokenSet(access_token=remote["access_token"]),
                linked_at=now,
            )
        )
        assert account.id is not None
        await repo.add_pledge(
            Pledge(
                campaign_id=live.id or 0,
                supporter=person,
                account_id=account.id,
                network=MASTODON,
                created_at=now,
                delivery_mode=DeliveryMode.AUTO,
            )
        )
    # the launch comes a few seconds after the process starts
    stored = await repo.get_campaign(live.id or 0)
    assert stored is not None
    return await repo.update_campaign(replace(stored, launch_at=datetime.now(UTC) + LAUNCH_AHEAD))


async def test_a_blast_killed_midway_resumes_and_posts_every_pledge_exactly_once(
    tmp_path: Path, fake: FakeMastodon
) -> None:
    database_url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    repo = await open_repository(database_url, TokenCipher(SECRET))
    try:
        campaign = await seed(repo, fake)
        assert campaign.id is not None
        env = chorus_env(tmp_path, database_url)

        first = await start_chorus(tmp_path, env, "first-run")
        try:
            posted = await wait_for(
                lambda: 100 <= sum(fake.posts.values()) < PLEDGES // 2,
                "the blast to be under way",
                first,
            )
            assert posted
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        at_kill = sum(fake.posts.values())
        assert 0 < at_kill < PLEDGES, at_kill
        interrupted = await repo.get_campaign(campaign.id)
        assert interrupted is not None and interrupted.status is CampaignStatus.LAUNCHING

        second = await start_chorus(tmp_path, env, "second-run")
        try:

            async def reported() -> bool:
                return await repo.event_claimed(campaign.id or 0, EventKind.REPORT_DONE)

            await wait_for(reported, "the blast to finish and report", second)
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), GUARD) == 0
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()

        # at the network: one status per account, none twice, none missing
        assert len(fake.posts) == PLEDGES
        assert set(fake.posts.values()) == {1}
        # in the database: the campaign launched, every pledge posted with its status id
        done = await repo.get_campaign(campaign.id)
        assert done is not None and done.status is CampaignStatus.LAUNCHED
        stats = await repo.campaign_stats(campaign.id)
        assert (stats.supporters, stats.posted, stats.failed) == (PLEDGES, PLEDGES, 0)
        assert stats.posted_reach == sum(n % 7 for n in range(PLEDGES))
        pledges = await repo.pledges_of_campaign(campaign.id)
        assert {p.status for p in pledges} == {PledgeStatus.POSTED}
        by_user = {user.id: user for user in fake.users.values()}
        accounts = await repo.get_accounts([p.account_id for p in pledges])
        for pledge in pledges:
            user = by_user[accounts[pledge.account_id].remote_id]
            assert [s["id"] for s in user.statuses] == [pledge.remote_post_id]
        log = (tmp_path / "second-run.log").read_text(encoding="utf-8")
        assert "resuming an interrupted blast" in log
    finally:
        await repo.close()
