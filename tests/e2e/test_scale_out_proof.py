"""Issue 14's proof in one run: three ``chorus run`` on one PostgreSQL schema, a blast of
3,000 pledges, a follower SIGKILLed mid-blast and the leader SIGKILLed before the report.

Campaign A (3,000 auto pledges on the loopback Mastodon, with latency) and campaign B (a
hundred) are seeded through the core and the repository, both launching hours ahead, and
the three processes start with Telegram by webhook (each its own web app) against the
loopback Bot API; exactly one leads (its log, and one advisory lock at the server). A's
launch is then moved a few seconds ahead and announced by NOTIFY, as a follower would, so
the leader fires it and splits the blast into batches every process claims. Once posts are
arriving, a follower holding a batch is SIGKILLed; its batch is claimed again when its
lease runs out. The fake holds back its answer to the 3,000th status: every status is then
at the network, but that batch cannot be done, so no process can have claimed the report.
B's launch is moved in the database only (the leader's timer still says hours ahead, so
only a process that re-reads the database can fire it) to a moment after the leader's
death, the leader is SIGKILLed, and the held answer released. The survivor must take
over, finish A and send its report once, and fire B's launch; a campaign C approved and
moved from outside after the take-over reaches the new leader by NOTIFY and fires too. At
the fakes every pledge of the three campaigns is posted exactly once and the organiser
gets each report exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.crypto import TokenCipher
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.refs import UserRef
from bot.ports import Repository
from storage import open_leadership, open_repository
from tests.e2e.cluster import (
    HeldMastodon,
    approve,
    batch_claims,
    claimed_batches,
    fresh_schema,
    leaders,
    lock_holders,
    log_of,
    pledge_all,
    running,
    says,
    worker_of,
)
from tests.e2e.test_crash_recovery import GUARD, SECRET, chorus_env, start_chorus, wait_for
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi

pytestmark = pytest.mark.postgres
PROCESSES = 3
PLEDGES_A = 3000
PLEDGES_B = 100
PLEDGES_C = 20
LATENCY_MS = 40
SOON = timedelta(seconds=2)  # from a launch's NOTIFY to the launch (A, C)
B_AHEAD = timedelta(seconds=8)  # from the move, just before the leader's death, to B's launch
MID_BLAST = 100  # statuses at the fake before the follower is killed
HOOK_SECRET = "e2e-proof-hook-secret-not-real-Vb7Rk2Lq9Zx"
ORGANISER = UserRef("telegram", "8001", "Olga")
WEB_HOST = "127.0.0.2"


@pytest.fixture
async def schema_url() -> AsyncIterator[tuple[str, str]]:
    async with fresh_schema() as found:
        yield found


@pytest.fixture
async def mastodon() -> AsyncIterator[HeldMastodon]:
    server = HeldMastodon(hold_at=PLEDGES_A, latency_ms=LATENCY_MS)
    server.record_requests = False
    await server.start()
    try:
        yield server
    finally:
        server.release.set()
        await server.close()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramApi]:
    server = FakeTelegramApi()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def process_env(tmp_path: Path, database_url: str, telegram: FakeTelegramApi) -> dict[str, str]:
    """One process's environment: Telegram by webhook on a web port of its own.

    The web app listens on 127.0.0.2: a loopback address, where the webhook may be plain
    HTTP, but not one Bluesky's loopback OAuth client takes, so Bluesky stays off (loading
    its SDK adds many seconds to each start on a loaded machine, for nothing here).
    """
    port = free_port(WEB_HOST)
    return chorus_env(tmp_path, database_url) | {
        "LEADER_POLL_SECONDS": "1",
        "BLAST_LEASE_SECONDS": "8",  # the killed follower's batch is taken over sooner
        "WEB_HOST": WEB_HOST,
        "WEB_PORT": str(port),
        "PUBLIC_URL": f"http://{WEB_HOST}:{port}",
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_MODERATION_CHAT_ID": "-100200",
        "TELEGRAM_WEBHOOK": "true",
        "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
    }


def reports_to_organiser(telegram: FakeTelegramApi, campaign: Campaign) -> int:
    """Launch reports of ``campaign`` in the organiser's private chat."""
    heading = f"Launch report for “{campaign.title}” ({campaign.ref})"
    return sum(
        heading in str(message.get("text", ""))
        for message in telegram.messages_in(int(ORGANISER.id))
    )


async def move_launch(repo: Repository, campaign: Campaign, ahead: timedelta) -> Campaign:
    """Move the launch in the database only: no process hears of it."""
    stored = await repo.get_campaign(campaign.id or 0)
    assert stored is not None
    return await repo.update_campaign(replace(stored, launch_at=datetime.now(UTC) + ahead))


async def announce_launch(
    database_url: str, repo: Repository, campaign: Campaign, ahead: timedelta
) -> None:
    """Move the launch and announce it to the leader, as a follower's change is."""
    moved = await move_launch(repo, campaign, ahead)
    claim = open_leadership(database_url)
    try:
        await claim.announce(moved.id or 0)
    finally:
        await claim.close()


async def test_a_follower_killed_mid_blast_and_the_leader_before_the_report(
    tmp_path: Path,
    mastodon: HeldMastodon,
    telegram: FakeTelegramApi,
    schema_url: tuple[str, str],
) -> None:
    database_url, schema = schema_url
    repo = await open_repository(database_url, TokenCipher(SECRET))
    processes: dict[str, asyncio.subprocess.Process] = {}
    names = [f"process-{n}" for n in range(PROCESSES)]
    try:
        later = datetime.now(UTC) + timedelta(hours=3)  # no reminder or countdown near
        first = await approve(repo, "Proof A", later, organiser=ORGANISER)
        second = await approve(repo, "Proof B", later, organiser=ORGANISER)
        assert first.id is not None and second.id is not None
        for name in names:
            env = process_env(tmp_path, database_url, telegram)
            processes[name] = await start_chorus(tmp_path, env, name)
        # seeded while the processes start: nothing of A or B comes due for hours
        await pledge_all(repo, mastodon, first, PLEDGES_A, "a")
        await pledge_all(repo, mastodon, second, PLEDGES_B, "b")
        await wait_for(lambda: running(tmp_path, names), "every process to run")
        await wait_for(lambda: leaders(tmp_path, names), "a leader")
        [leader] = leaders(tmp_path, names)
        assert await lock_holders(schema) == 1
        followers = [name for name in names if name != leader]

        # A launches soon: the change reaches the leader through NOTIFY, as from a follower
        await announce_launch(database_url, repo, first, SOON)

        async def follower_posting() -> tuple[str, list[int]] | None:
            """A follower holding a batch of A while statuses arrive (the one to kill)."""
            if sum(mastodon.posts.values()) < MID_BLAST:
                return None
            held = await claimed_batches(repo, first.id or 0)
            for name in followers:
                batches = [b for b, owner in held.items() if worker_of(tmp_path, [name], owner)]
                if batches:
                    return name, batches
            return None

        found = await wait_for(follower_posting, "a follower posting a batch")
        victim, victim_batches = found  # type: ignore[misc]
        processes[victim].send_signal(signal.SIGKILL)
        await processes[victim].wait()
        at_kill = sum(mastodon.posts.values())
        assert MID_BLAST <= at_kill < PLEDGES_A, at_kill

        # every status is at the network, the last one's batch not done: no report yet
        await asyncio.wait_for(mastodon.holding.wait(), GUARD)
        assert sum(mastodon.posts.values()) == PLEDGES_A
        assert not await repo.event_claimed(first.id, EventKind.REPORT)
        stored = await repo.get_campaign(first.id)
        assert stored is not None and stored.status is CampaignStatus.LAUNCHING

        # B's moment comes after the leader's death; the leader's own timer says hours ahead
        moved = await move_launch(repo, second, B_AHEAD)
        processes[leader].send_signal(signal.SIGKILL)
        await processes[leader].wait()
        assert datetime.now(UTC) < moved.launch_at  # B's timer falls after the leader's death
        mastodon.release.set()
        [survivor] = [name for name in followers if name != victim]

        await wait_for(lambda: leaders(tmp_path, [survivor]), "the survivor to take over")
        assert await lock_holders(schema) == 1

        # C, approved and moved elsewhere after the take-over, reaches the new leader by NOTIFY
        claim = open_leadership(database_url)
        try:
            third = await approve(repo, "Proof C", later, leadership=claim, organiser=ORGANISER)
        finally:
            await claim.close()
        await pledge_all(repo, mastodon, third, PLEDGES_C, "c")
        await announce_launch(database_url, repo, third, SOON)

        campaigns = [(first, PLEDGES_A), (second, PLEDGES_B), (third, PLEDGES_C)]
        for campaign, _ in campaigns:
            await wait_for(
                partial(reports_to_organiser, telegram, campaign),
                f"the report of {campaign.title} at the organiser's chat",
            )
            done = f"campaign {campaign.ref} report:"  # its work is over (supporters told)
            await wait_for(says(tmp_path, survivor, done), f"{done} logged")

        processes[survivor].send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(processes[survivor].wait(), GUARD) == 0
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
    try:
        # at the network: one status per account of every campaign, none twice
        assert len(mastodon.posts) == PLEDGES_A + PLEDGES_B + PLEDGES_C
        assert set(mastodon.posts.values()) == {1}
        # at the chat: each report once, to the organiser
        reports = {c.title: reports_to_organiser(telegram, c) for c, _ in campaigns}
        assert reports == {c.title: 1 for c, _ in campaigns}, reports
        for campaign, count in campaigns:
            assert campaign.id is not None
            done = await repo.get_campaign(campaign.id)
            assert done is not None and done.status is CampaignStatus.LAUNCHED
            stats = await repo.campaign_stats(campaign.id)
            assert (stats.supporters, stats.posted, stats.failed) == (count, count, 0)
            assert await repo.count_events(campaign.id, EventKind.REPORT) == 1
            assert await repo.count_events(campaign.id, EventKind.REPORT_DONE) == 1
        # the victim's batches were claimed again and finished by another process
        claims = await batch_claims(repo, victim_batches)
        assert claims.keys() == set(victim_batches), claims
        assert all(state == "done" and times >= 2 for state, times in claims.values()), claims
        survived = log_of(tmp_path, survivor)
        assert "Traceback" not in survived, survived
        assert f"campaign {second.ref} launching" in survived
        assert f"campaign {third.ref} launching" in survived
        assert "resuming an interrupted blast" in survived
    finally:
        await repo.close()
