"""SIGTERM ``chorus run`` in the middle of a report, start it again: the report is
finished, and nobody is told twice.

The database is seeded with a live campaign launching a few seconds ahead, promoted in a
Telegram group, and 200 supporters on Telegram pledged with accounts on a loopback
Mastodon (auto). The blast is quick; the report then tells the organiser, the group, and
each supporter their own result through the loopback Telegram API, at most 29 messages a
second (the front end's rate limit), so it takes several seconds. The process is
SIGTERMed once some results have gone out, must stop cleanly with the report not done,
and the next run must finish it: at the fake Telegram, the organiser and the group have
the report once, every supporter their result once, and every token is released.
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

from adapters.networks.mastodon import MASTODON
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.cards import CardKind, PostedCard
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.ports import Repository
from bot.settings import Settings
from storage import open_repository
from tests.e2e.test_crash_recovery import GUARD, SECRET, chorus_env, start_chorus, wait_for
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi

SUPPORTERS = 200
LAUNCH_AHEAD = timedelta(seconds=8)
ORGANISER_ID = 4242
GROUP_ID = -100300
ORGANISER = UserRef("telegram", str(ORGANISER_ID), "Olga")
MODERATOR = UserRef("telegram", "4343", "Mo")
MESSAGE = "Report me #ChorusReport https://chorus.example/report"
REPORT = "Launch report for"
RESULT = "Together:"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegramApi, FakeMastodon]]:
    telegram = FakeTelegramApi()
    await telegram.start()
    mastodon = FakeMastodon()
    mastodon.record_requests = False
    await mastodon.start()
    try:
        yield telegram, mastodon
    finally:
        await mastodon.close()
        await telegram.close()


async def seed(repo: Repository, mastodon: FakeMastodon) -> tuple[Campaign, list[int]]:
    """A live campaign promoted in a Telegram group, and its supporters' Telegram ids."""
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, SystemClock(), secret=SECRET)
    draft = CampaignDraft(
        title="Report test",
        message=MESSAGE,
        goal=0,
        launch_at=datetime.now(UTC) + timedelta(hours=1),
        networks=(MASTODON,),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    assert submitted.id is not None
    live = await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)
    assert live.id is not None
    now = datetime.now(UTC)
    await repo.add_card(
        PostedCard(
            live.id, CardKind.PROMOTION, MessageRef(ChatRef("telegram", str(GROUP_ID)), "1"), now
        )
    )
    people = []
    for n, remote in enumerate(mastodon.create_accounts(SUPPORTERS)):
        telegram_id = 10_000 + n
        people.append(telegram_id)
        person = UserRef("telegram", str(telegram_id), f"Supporter {n}")
        account = await repo.save_account(
            SocialAccount(
                owner=person,
                network=MASTODON,
                instance=mastodon.host,
                remote_id=remote["id"],
                handle=remote["username"],
                followers=1,
                tokens=TokenSet(access_token=remote["access_token"]),
                linked_at=now,
            )
        )
        assert account.id is not None
        await repo.add_pledge(
            Pledge(
                campaign_id=live.id,
                supporter=person,
                account_id=account.id,
                network=MASTODON,
                created_at=now,
                delivery_mode=DeliveryMode.AUTO,
            )
        )
    stored = await repo.get_campaign(live.id)
    assert stored is not None
    launching = replace(stored, launch_at=datetime.now(UTC) + LAUNCH_AHEAD)
    return await repo.update_campaign(launching), people


def told(telegram: FakeTelegramApi, words: str) -> Counter[int]:
    """How many messages containing ``words`` each chat got."""
    return Counter(
        call.chat_id or 0 for call in telegram.find("sendMessage") if words in call.text
    )


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), GUARD)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_report_sigtermed_midway_is_finished_by_the_next_run_once(
    tmp_path: Path, fakes: tuple[FakeTelegramApi, FakeMastodon]
) -> None:
    telegram, mastodon = fakes
    database_url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    repo = await open_repository(database_url, TokenCipher(SECRET))
    try:
        campaign, people = await seed(repo, mastodon)
        assert campaign.id is not None
        env = chorus_env(tmp_path, database_url)
        env.update(
            TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
            TELEGRAM_API_URL=telegram.url,
            TELEGRAM_MODERATION_CHAT_ID="-100200",
        )

        first = await start_chorus(tmp_path, env, "first-run")
        try:
            await wait_for(
                lambda: sum(told(telegram, RESULT).values()) >= 20, "results going out", first
            )
        finally:
            assert await stop(first) == 0
        assert sum(mastodon.posts.values()) == SUPPORTERS
        at_stop = told(telegram, RESULT)
        assert sum(at_stop.values()) < SUPPORTERS, "the report ended before the SIGTERM"
        assert not await repo.event_claimed(campaign.id, EventKind.REPORT_DONE)
        first_log = (tmp_path / "first-run.log").read_text(encoding="utf-8")
        assert "chorus stopped" in first_log

        second = await start_chorus(tmp_path, env, "second-run")
        try:

            async def done() -> bool:
                return await repo.event_claimed(campaign.id or 0, EventKind.REPORT_DONE)

            await wait_for(done, "the report to be finished", second)
        finally:
            assert await stop(second) == 0

        reports = told(telegram, REPORT)
        assert reports[ORGANISER_ID] == 1
        assert reports[GROUP_ID] == 1
        results = told(telegram, RESULT)
        assert {person: results[person] for person in people} == dict.fromkeys(people, 1)
        for pledge in await repo.pledges_of_campaign(campaign.id):
            account = await repo.get_account(pledge.account_id)
            assert account is not None and account.tokens.access_token == ""
        assert sum(mastodon.posts.values()) == SUPPORTERS  # nothing posted again
    finally:
        await repo.close()
