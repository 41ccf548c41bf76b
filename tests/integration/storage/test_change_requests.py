"""A moderator's awaited words say what they are for (a rejection's reason or a change
request's note), on both back ends; an upgrade keeps the rows already waiting as rejections;
a campaign whose changes were requested is stored and read back with its note."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.moderation import PendingReason, ReasonKind
from bot.ports import Repository
from storage import migrations, open_repository
from storage.repository import SqlRepository
from tests.integration.storage.builders import T0, campaign, store_campaign_as_before


async def test_the_kind_of_awaited_words_is_kept(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    asking = PendingReason(
        "telegram:7", stored.id, "501", T0 + timedelta(days=1), ReasonKind.CHANGES
    )
    await any_repo.save_pending_reason(asking)
    assert await any_repo.pending_reason("telegram:7", T0) == asking
    rejecting = PendingReason("telegram:7", stored.id, "502", T0 + timedelta(days=1))
    await any_repo.save_pending_reason(rejecting)  # a Reject press replaces the request
    assert await any_repo.pending_reason("telegram:7", T0) == rejecting


async def test_a_change_request_is_stored_with_its_note(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.PENDING_REVIEW))
    asked = await any_repo.update_campaign(
        replace(stored, status=CampaignStatus.CHANGES_REQUESTED, reject_reason="Add a link")
    )
    assert asked.version == stored.version + 1
    again = await any_repo.find_campaign(stored.ref)
    assert again is not None
    assert (again.status, again.reject_reason) == (CampaignStatus.CHANGES_REQUESTED, "Add a link")
    waiting = await any_repo.campaigns_in({CampaignStatus.CHANGES_REQUESTED})
    assert [c.ref for c in waiting] == [stored.ref]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:///:memory:"
    return str(request.getfixturevalue("postgres_schema_url"))


async def test_upgrade_keeps_waiting_rejections(old_database: str, cipher: TokenCipher) -> None:
    repo = await open_repository(old_database, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        steps = migrations.load_steps(repo.dialect)
        new = next(s for s in steps if s.name == "changes_requested")
        for step in steps[: steps.index(new)]:
            assert await repo.apply_step(step)
        stored = await store_campaign_as_before(repo, campaign())
        expires = datetime.now(UTC) + timedelta(days=1)
        async with repo.transaction() as db:  # as the code before this step wrote it
            await db.execute(
                "INSERT INTO pending_reject_reasons "
                "(moderator_key, campaign_id, prompt_id, expires_at) VALUES ($1, $2, $3, $4)",
                "discord:5",
                stored.id,
                "77",
                repo._codec.time_in(expires),
            )
        assert await repo.migrate() == len(steps)
        kept = await repo.pending_reason("discord:5", datetime.now(UTC))
        assert kept is not None and kept.kind is ReasonKind.REJECT and kept.prompt_id == "77"
    finally:
        await repo.close()
