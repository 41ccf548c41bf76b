"""The tallies the triggers keep (migration 0022) always equal a count of the rows.

A campaign's supporters, accounts and reach by network are read from tallies that the
database moves in the same transaction as the pledge or account row that changes them.
Here Hypothesis plays random histories through the repository (pledges alone and in bulk,
withdrawals and returns, posts and failures as the blast records them, follower counts
changing, a person erasing everything) on SQLite and PostgreSQL, and after every step each
campaign's figures must equal what the pledge rows themselves say, counted the old way.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.crypto import TokenCipher
from bot.domain.account import SocialAccount
from bot.domain.campaign import CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from storage import migrations, open_repository, rows
from storage.repository import SqlRepository
from tests.conftest import TEST_SECRET
from tests.integration.conftest import _postgres_admin, postgres_url, with_schema
from tests.integration.storage.builders import account, campaign, pledge

# the counts as they were made before the tallies: every pledge row of the campaign
_COUNTED = """
SELECT p.network AS network,
       COUNT(*) FILTER (WHERE p.status <> 'withdrawn') AS accounts,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status <> 'withdrawn'), 0) AS reach,
       COUNT(*) FILTER (WHERE p.status = 'posted') AS posted,
       COUNT(*) FILTER (WHERE p.status = 'failed') AS failed,
       COALESCE(SUM(a.followers) FILTER (WHERE p.status = 'posted'), 0) AS posted_reach
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.campaign_id = $1
GROUP BY p.network
"""
_PEOPLE = """
SELECT COUNT(*) AS supporters FROM (
    SELECT DISTINCT supporter_platform, supporter_id FROM pledges
    WHERE campaign_id = $1 AND status <> 'withdrawn'
) AS people
"""

PEOPLE = [UserRef("telegram", str(3000 + n), f"P{n}", "en") for n in range(4)]
WEB_TWIN = UserRef("web", "alias-0", "P0 on the web", "en")  # pledges others' accounts
CAMPAIGNS = 2
ACCOUNTS = 5

people = st.integers(0, len(PEOPLE) - 1)
accounts = st.integers(0, ACCOUNTS - 1)
campaigns = st.integers(0, CAMPAIGNS - 1)
steps = st.one_of(
    st.tuples(st.just("pledge"), campaigns, accounts, st.booleans()),
    st.tuples(st.just("bulk"), campaigns, st.lists(accounts, max_size=4, unique=True)),
    st.tuples(st.just("withdraw"), campaigns, accounts),
    st.tuples(st.just("return"), campaigns, accounts),
    st.tuples(st.just("outcome"), campaigns, accounts, st.sampled_from(["posted", "failed"])),
    st.tuples(st.just("followers"), accounts, st.integers(0, 5000)),
    st.tuples(st.just("erase"), people),
)


@dataclass
class World:
    """A repository with campaigns and the accounts people linked; the ids by index."""

    repo: SqlRepository
    campaign_ids: list[int] = field(default_factory=list)
    linked: dict[int, SocialAccount] = field(default_factory=dict)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def owner(self, index: int) -> UserRef:
        return PEOPLE[index % len(PEOPLE)]

    async def account(self, index: int, followers: int | None = None) -> SocialAccount:
        """The account (re)linked, as a pledge or a profile refresh would save it."""
        known = self.linked.get(index)
        wanted = account(
            self.owner(index),
            f"{self.run}-{index}",
            network=X if index % 2 else MASTODON,
            followers=followers if followers is not None else (known.followers if known else 7),
        )
        saved = await self.repo.save_account(wanted)
        self.linked[index] = saved
        return saved

    async def pledge(self, campaign_index: int, index: int, twin: bool) -> Pledge | None:
        linked = await self.account(index)
        supporter = WEB_TWIN if twin else linked.owner
        try:
            return await self.repo.add_pledge(
                pledge(self.campaign_ids[campaign_index], linked, supporter)
            )
        except DomainError:  # this account already pledged to this campaign
            return None

    async def found(self, campaign_index: int, index: int) -> Pledge | None:
        linked = self.linked.get(index)
        if linked is None or linked.id is None:
            return None
        return await self.repo.find_pledge(self.campaign_ids[campaign_index], linked.id)

    async def apply(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "pledge":
            await self.pledge(step[1], step[2], step[3])
        elif kind == "bulk":
            fresh = []
            for index in step[2]:
                linked = await self.account(index)
                if await self.found(step[1], index) is None:
                    fresh.append(pledge(self.campaign_ids[step[1]], linked))
            await self.repo.add_pledges(fresh)
        elif kind in ("withdraw", "return"):
            found = await self.found(step[1], step[2])
            if found is not None:
                status = PledgeStatus.WITHDRAWN if kind == "withdraw" else PledgeStatus.PLEDGED
                await self.repo.update_pledge(replace(found, status=status))
        elif kind == "outcome":
            found = await self.found(step[1], step[2])
            if found is not None and found.status is not PledgeStatus.WITHDRAWN:
                # as the blast records them: many at once, delivery columns only
                await self.repo.record_deliveries([replace(found, status=PledgeStatus(step[3]))])
        elif kind == "followers":
            if step[1] in self.linked:
                await self.account(step[1], followers=step[2])
        elif kind == "erase":
            await self.repo.erase_supporter(PEOPLE[step[1]])
            if step[1] == 0:
                await self.repo.erase_supporter(WEB_TWIN)
            gone = [i for i in self.linked if self.owner(i) == PEOPLE[step[1]]]
            for index in gone:
                del self.linked[index]

    async def check(self) -> None:
        for campaign_id in self.campaign_ids:
            async with self.repo.transaction(write=False) as db:
                counted = await db.fetch_all(_COUNTED, campaign_id)
                people_row = await db.fetch_one(_PEOPLE, campaign_id)
            assert people_row is not None
            expected = rows.stats_from_rows(counted, int(people_row["supporters"]))
            assert await self.repo.campaign_stats(campaign_id) == expected
            assert await self.repo.supporter_count(campaign_id) == expected.supporters


async def _play(repo: SqlRepository, history: list[tuple[Any, ...]]) -> None:
    world = World(repo)
    for n in range(CAMPAIGNS):
        stored = await repo.add_campaign(campaign(f"T{world.run}{n}", status=CampaignStatus.LIVE))
        assert stored.id is not None
        world.campaign_ids.append(stored.id)
    await world.check()
    for step in history:
        await world.apply(step)
        await world.check()


async def _play_on(url: str, history: list[tuple[Any, ...]]) -> None:
    repo = await open_repository(url, _cipher())
    assert isinstance(repo, SqlRepository)
    try:
        await _play(repo, history)
    finally:
        await repo.close()


def _cipher() -> TokenCipher:
    return TokenCipher(TEST_SECRET)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, max_size=30))
def test_sqlite_tallies_equal_the_rows(history: list[tuple[Any, ...]]) -> None:
    asyncio.run(_play_on("sqlite:///:memory:", history))


@pytest.fixture(scope="module")
def postgres_tallies_url() -> Any:
    """One throw-away schema for every example (each plays on campaigns and accounts of
    its own), migrated once."""
    schema = f"chorus_test_{uuid.uuid4().hex[:16]}"
    url = with_schema(postgres_url(), schema)

    async def prepare() -> None:
        repo = await open_repository(url, _cipher())
        await repo.close()

    async def drop() -> None:
        admin = await _postgres_admin()
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()

    asyncio.run(prepare())
    yield url
    asyncio.run(drop())


@pytest.mark.postgres
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=st.lists(steps, max_size=30))
def test_postgres_tallies_equal_the_rows(
    postgres_tallies_url: str, history: list[tuple[Any, ...]]
) -> None:
    asyncio.run(_play_on(postgres_tallies_url, history))


async def test_sqlite_upgrade_counts_what_was_there() -> None:
    await _upgrade_counts_what_was_there("sqlite:///:memory:")


@pytest.mark.postgres
async def test_postgres_upgrade_counts_what_was_there(postgres_schema_url: str) -> None:
    await _upgrade_counts_what_was_there(postgres_schema_url)


async def _upgrade_counts_what_was_there(url: str) -> None:
    """A database of step 21 with pledges in every state: step 22 starts its tallies from
    the rows, and they go on from there."""
    repo = await open_repository(url, _cipher(), migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        for step in migrations.load_steps(repo.dialect)[:21]:
            assert await repo.apply_step(step)
        world = World(repo)
        for n in range(CAMPAIGNS):
            stored = await repo.add_campaign(campaign(f"U{n}", status=CampaignStatus.LIVE))
            assert stored.id is not None
            world.campaign_ids.append(stored.id)
        history: list[tuple[Any, ...]] = [
            ("pledge", 0, 0, False),
            ("pledge", 0, 4, False),  # P0 again, another account: one supporter
            ("pledge", 0, 1, True),  # P1's account, pledged by P0's web identity
            ("pledge", 0, 2, False),
            ("pledge", 1, 3, False),
            ("withdraw", 0, 2),
            ("outcome", 1, 3, "posted"),
            ("followers", 0, 900),
        ]
        for step in history:
            await world.apply(step)
        await repo.migrate()
        await world.check()
        supporters = [await repo.supporter_count(i) for i in world.campaign_ids]
        assert supporters == [2, 1]
        for step in [("return", 0, 2), ("followers", 4, 50), ("erase", 0)]:
            await world.apply(step)
            await world.check()
    finally:
        await repo.close()


@pytest.mark.postgres
async def test_concurrent_pledges_and_profile_refreshes_keep_the_tallies_exact(
    postgres_schema_url: str,
) -> None:
    """Pledges, withdrawals and follower changes of the same accounts from many
    connections at once: every row trigger moves the tallies by its own row's part, and
    the reach cannot miss a follower change made while a pledge was going in."""
    repo = await open_repository(postgres_schema_url, _cipher())
    assert isinstance(repo, SqlRepository)
    try:
        for round_ in range(6):  # the race is narrow: give it several chances
            await _pledge_while_refreshing(repo, round_)
    finally:
        await repo.close()


async def _pledge_while_refreshing(repo: SqlRepository, round_: int) -> None:
    world = World(repo)
    stored = await repo.add_campaign(campaign(f"CONC{round_}", status=CampaignStatus.LIVE))
    assert stored.id is not None
    world.campaign_ids.append(stored.id)
    owners = [UserRef("telegram", f"{round_}-{n}", f"C{n}", "en") for n in range(40)]
    linked = [
        await repo.save_account(account(owner, f"c{round_}-{n}", followers=n))
        for n, owner in enumerate(owners)
    ]

    async def pledge_then_maybe_withdraw(n: int) -> None:
        added = await repo.add_pledge(pledge(stored.id or 0, linked[n]))
        if n % 3 == 0:
            await repo.update_pledge(replace(added, status=PledgeStatus.WITHDRAWN))

    async def refresh(n: int, followers: int) -> None:
        await repo.save_account(replace(linked[n], id=None, followers=followers))

    await asyncio.gather(
        *(pledge_then_maybe_withdraw(n) for n in range(40)),
        *(refresh(n, 1000 + n) for n in range(40)),
        *(refresh(n, 2000 + n) for n in range(0, 40, 2)),
    )
    await world.check()
    figures = await repo.campaign_stats(stored.id)
    assert (figures.supporters, figures.accounts) == (26, 26)
