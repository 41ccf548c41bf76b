"""Kill ``chorus run`` in the middle of a Bluesky blast, start it again: one post each.

As ``test_crash_recovery`` does for Mastodon, over the AT Protocol fakes: supporters link
their accounts with the real OAuth flow (PAR, PKCE, DPoP) in this process, the campaign
launches a few seconds after ``chorus run`` starts, the process is SIGKILLed once some but
not all posts are on the fake PDS (with latency, so the blast takes a while), and started
again. The posts written but not yet recorded when it died are sent again under the same
record key, which the PDS refuses ("already exists") and Chorus reads as posted: every
account ends with exactly one post, and every pledge names it.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.networks.bluesky_spec import BLUESKY
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from storage import open_repository
from tests.e2e.test_crash_recovery import (
    GUARD,
    MODERATOR,
    ORGANISER,
    SECRET,
    chorus_env,
    start_chorus,
    wait_for,
)
from tests.fakes.atproto_auth import DpopCheck
from tests.fakes.atproto_world import AtprotoWorld
from tests.integration.networks.bluesky_kit import LOOPBACK_URL, link, make_linker

PLEDGES = 240
LATENCY_MS = 150
LAUNCH_AHEAD = timedelta(seconds=6)
MESSAGE = "Crash-proof 🌊 #ChorusCrash https://chorus.example/crash"


@pytest.fixture
async def world() -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld() as fakes:
        # one nonce at a time for everyone, as the reference PDS does
        fakes.pds.dpop = DpopCheck(fakes.pds.now, rotate_every=timedelta(minutes=3))
        yield fakes


async def seed(repo: Repository, world: AtprotoWorld) -> Campaign:
    """A live Bluesky campaign and PLEDGES supporters linked through the OAuth flow."""
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, SystemClock(), secret=SECRET)
    draft = CampaignDraft(
        title="Crash test",
        message=MESSAGE,
        goal=PLEDGES,
        launch_at=datetime.now(UTC) + timedelta(hours=1),
        networks=(BLUESKY,),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    assert submitted.id is not None
    live = await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)
    clock = FakeClock(datetime.now(UTC))
    linker = make_linker(world, clock, confidential=False)  # the loopback client, as run
    try:
        for n in range(PLEDGES):
            world.add(f"s{n}.test", followers=n % 7)
            profile = await link(linker, f"s{n}.test")
            person = UserRef("console", f"s{n}", f"Supporter {n}")
            account = await repo.save_account(
                SocialAccount(
                    owner=person,
                    network=BLUESKY,
                    instance=profile.instance,
                    remote_id=profile.remote_id,
                    handle=profile.handle,
                    followers=profile.followers,
                    tokens=profile.tokens,
                    linked_at=clock.now(),
                )
            )
            assert account.id is not None
            await repo.add_pledge(
                Pledge(
                    campaign_id=live.id or 0,
                    supporter=person,
                    account_id=account.id,
                    network=BLUESKY,
                    created_at=clock.now(),
                    delivery_mode=DeliveryMode.AUTO,
                )
            )
    finally:
        await linker.aclose()
    stored = await repo.get_campaign(live.id or 0)
    assert stored is not None
    return await repo.update_campaign(replace(stored, launch_at=datetime.now(UTC) + LAUNCH_AHEAD))


def bluesky_env(tmp_path: Path, database_url: str, world: AtprotoWorld) -> dict[str, str]:
    env = chorus_env(tmp_path, database_url)
    env.update(
        PUBLIC_URL=LOOPBACK_URL,  # the same loopback client the supporters linked with
        BLUESKY_DIRECTORY_URL=world.identity.directory_url,
        BLUESKY_APPVIEW_URL=world.identity.url,
        BLUESKY_ALLOW_PRIVATE_HOSTS="true",
        BLUESKY_DELIVERY="auto",
    )
    return env


async def test_a_bluesky_blast_killed_midway_resumes_and_posts_every_pledge_once(
    tmp_path: Path, world: AtprotoWorld
) -> None:
    database_url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    repo = await open_repository(database_url, TokenCipher(SECRET))
    try:
        campaign = await seed(repo, world)
        assert campaign.id is not None
        world.pds.latency_ms = LATENCY_MS
        env = bluesky_env(tmp_path, database_url, world)

        first = await start_chorus(tmp_path, env, "first-run")
        try:
            under_way = await wait_for(
                lambda: 20 <= len(world.pds.records) < PLEDGES // 2,
                "the blast to be under way",
                first,
            )
            assert under_way
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        at_kill = len(world.pds.records)
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

        # at the PDS: one post per account, none twice, none missing
        per_account = Counter(uri.split("/")[2] for uri in world.pds.records)
        assert len(per_account) == PLEDGES
        assert set(per_account.values()) == {1}
        assert all(r.value["text"] == MESSAGE for r in world.pds.records.values())
        # in the database: launched, every pledge posted and naming its record
        done = await repo.get_campaign(campaign.id)
        assert done is not None and done.status is CampaignStatus.LAUNCHED
        stats = await repo.campaign_stats(campaign.id)
        assert (stats.supporters, stats.posted, stats.failed) == (PLEDGES, PLEDGES, 0)
        assert stats.posted_reach == sum(n % 7 for n in range(PLEDGES))
        pledges = await repo.pledges_of_campaign(campaign.id)
        assert {p.status for p in pledges} == {PledgeStatus.POSTED}
        assert {p.remote_post_id for p in pledges} == set(world.pds.records)
        log = (tmp_path / "second-run.log").read_text(encoding="utf-8")
        assert "resuming an interrupted blast" in log
    finally:
        await repo.close()
