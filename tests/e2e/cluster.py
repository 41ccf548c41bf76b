"""What the multi-process e2e tests share: several ``chorus run`` on one PostgreSQL schema.

A fresh schema (dropped afterwards, skipped without the server as the integration tier
does), campaigns submitted and approved through the core, their supporters' accounts and
pledges seeded in bulk through the repository, and ways to read from outside which
process leads (its log, the server's advisory locks) and which holds a batch of a blast.
``HeldMastodon`` is the loopback Mastodon with one answer held back, so a test can act at
a moment that is otherwise a race: a status is at the network, its batch is not done.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from adapters.networks.mastodon import MASTODON
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.dialog import CampaignDraft
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.ports import Leadership, Repository
from bot.settings import Settings
from storage.leadership import LEADER_LOCK
from tests.e2e.test_crash_recovery import SECRET
from tests.fakes.mastodon_api import FakeMastodon, MastodonUser
from tests.integration.conftest import _postgres_admin, postgres_url, with_schema

LEADS = "this process leads"
RUNNING = "chorus is running"
ORGANISER = UserRef("console", "organiser", "Olga")
MODERATOR = UserRef("console", "moderator", "Mo")


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[tuple[str, str]]:
    """The test server's URL naming a new schema, and the schema; dropped afterwards."""
    admin = await _postgres_admin()
    schema = f"chorus_e2e_{uuid.uuid4().hex[:16]}"
    try:
        yield with_schema(postgres_url(), schema), schema
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()


async def approve(
    repo: Repository,
    title: str,
    launch_at: datetime,
    *,
    leadership: Leadership | None = None,
    organiser: UserRef = ORGANISER,
) -> Campaign:
    """A campaign submitted and approved through the core, as a process's services do
    (``leadership``: announce the approval to the leader, as a follower does)."""
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, SystemClock(), secret=SECRET, leadership=leadership)
    draft = CampaignDraft(
        title=title,
        message=f"{title} #ChorusLeads https://chorus.example/leads",
        goal=0,
        launch_at=launch_at,
        networks=(MASTODON,),
    )
    submitted = await core.campaigns.submit(draft, organiser)
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, MODERATOR, may_moderate=True)


async def pledge_all(
    repo: Repository, fake: FakeMastodon, campaign: Campaign, count: int, tag: str
) -> None:
    """``count`` supporters, each with a new account at ``fake`` and an auto pledge."""
    assert campaign.id is not None
    now = datetime.now(UTC)
    people = [UserRef("console", f"{tag}{n}", f"Supporter {tag}{n}") for n in range(count)]
    accounts = await repo.save_accounts(
        [
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
            for person, remote in zip(people, fake.create_accounts(count), strict=True)
        ]
    )
    added = await repo.add_pledges(
        [
            Pledge(
                campaign_id=campaign.id,
                supporter=person,
                account_id=account.id or 0,
                network=MASTODON,
                created_at=now,
                delivery_mode=DeliveryMode.AUTO,
            )
            for person, account in zip(people, accounts, strict=True)
        ]
    )
    assert len(added) == count


def log_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text("utf-8")


def says(tmp_path: Path, name: str, text: str) -> Callable[[], bool]:
    """A condition for ``wait_for``: the log of ``name`` says ``text``."""
    return lambda: text in log_of(tmp_path, name)


def leaders(tmp_path: Path, names: Sequence[str]) -> list[str]:
    """The processes whose log says they took the leadership (now or earlier)."""
    return [name for name in names if LEADS in log_of(tmp_path, name)]


def running(tmp_path: Path, names: Sequence[str]) -> bool:
    return all(RUNNING in log_of(tmp_path, name) for name in names)


async def lock_holders(schema: str) -> int:
    """How many sessions hold the leadership's advisory lock of ``schema``."""
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


async def claimed_batches(repo: Repository, campaign_id: int) -> dict[int, str]:
    """Batch id → owner of every batch of the campaign claimed right now."""
    async with repo.transaction() as db:  # type: ignore[attr-defined]
        found = await db.fetch_all(
            "SELECT id, owner FROM blast_batches WHERE campaign_id = $1 AND state = 'claimed'",
            campaign_id,
        )
    return {row["id"]: row["owner"] for row in found}


async def batch_claims(repo: Repository, batch_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """Batch id → (state, times claimed) of each batch."""
    async with repo.transaction() as db:  # type: ignore[attr-defined]
        found = await db.fetch_all("SELECT id, state, claims FROM blast_batches")
    return {row["id"]: (row["state"], row["claims"]) for row in found if row["id"] in batch_ids}


def worker_of(tmp_path: Path, names: Sequence[str], owner: str) -> str | None:
    """The process whose blast worker is ``owner`` (each logs its owner's first 8 hex)."""
    for name in names:
        if f"blast worker {owner[:8]} started" in log_of(tmp_path, name):
            return name
    return None


class HeldMastodon(FakeMastodon):
    """The loopback Mastodon, holding back its answer to the ``hold_at``-th new status.

    That status exists at the fake (it counts in ``posts``) but the process that posted it
    hears nothing until ``release`` is set, so its batch cannot be done meanwhile. A repeat
    of the same request (same Idempotency-Key) before the release is held too.
    """

    def __init__(self, *, hold_at: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold_at = hold_at
        self.created = 0
        self.holding = asyncio.Event()  # set once the held answer waits
        self.release = asyncio.Event()
        self._held_user: str | None = None

    def _new_status(
        self, user: MastodonUser, form: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        status, body = super()._new_status(user, form, key)
        if status == 200:
            self.created += 1
            if self.created == self.hold_at:
                self._held_user = user.id
        return status, body

    async def post_status(self, request: web.Request) -> web.Response:
        answer = await super().post_status(request)
        held = self._held_user is not None and self._held_user == self.account_of(request)
        if held and not self.release.is_set():
            self.holding.set()
            await self.release.wait()
        return answer
