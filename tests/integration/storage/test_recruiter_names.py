"""Consent to be named as a recruiter, on SQLite and PostgreSQL: one name per person per
campaign, replaced when chosen again, gone when withdrawn from or on erasure; and the
upgrade to 0009 keeps every existing recruiter anonymous."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from storage import migrations, open_repository
from storage.repository import SqlRepository
from tests.integration.storage.builders import (
    account,
    campaign,
    pledge,
    store_account_as_before_binding,
    store_campaign_as_before,
    store_pledge_as_before,
)

A = UserRef("telegram", "1", "Ann", "en")
B = UserRef("discord", "2", "Bo", "en")


async def test_names_per_person_per_campaign(any_repo: Repository) -> None:
    first = await any_repo.add_campaign(campaign("AAAAAA", status=CampaignStatus.LIVE))
    second = await any_repo.add_campaign(campaign("BBBBBB", status=CampaignStatus.LIVE))
    assert first.id is not None and second.id is not None
    assert await any_repo.recruiter_names(first.id) == {}

    await any_repo.name_recruiter(first.id, A.key, "Ann")
    await any_repo.name_recruiter(first.id, A.key, "Ann L.")  # chosen again: replaced
    await any_repo.name_recruiter(first.id, B.key, "Bo")
    await any_repo.name_recruiter(second.id, A.key, "Annie")
    assert await any_repo.recruiter_names(first.id) == {A.key: "Ann L.", B.key: "Bo"}
    assert await any_repo.recruiter_names(second.id) == {A.key: "Annie"}

    assert await any_repo.unname_recruiter(first.id, B.key) is True
    assert await any_repo.unname_recruiter(first.id, B.key) is False
    assert await any_repo.recruiter_names(first.id) == {A.key: "Ann L."}

    await any_repo.erase_supporter(A)  # /forget: every campaign
    assert await any_repo.recruiter_names(first.id) == {}
    assert await any_repo.recruiter_names(second.id) == {}


async def _upgrade_keeps_recruiters_anonymous(url: str, cipher: TokenCipher) -> None:
    repo = await open_repository(url, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        steps = migrations.load_steps(repo.dialect)
        new = next(s for s in steps if s.name == "recruiter_consent")
        for step in steps[: steps.index(new)]:
            assert await repo.apply_step(step)
        stored = await store_campaign_as_before(
            repo, campaign(status=CampaignStatus.LIVE), column="variants"
        )
        assert stored.id is not None
        older = account(B, "b1")
        linked = replace(older, id=await store_account_as_before_binding(repo, older))
        await store_pledge_as_before(repo, pledge(stored.id, linked, recruited_by=A.key))

        assert await repo.migrate() == len(steps)

        assert [r.key for r in await repo.recruiters(stored.id)] == [A.key]
        assert await repo.recruiter_names(stored.id) == {}
        await repo.name_recruiter(stored.id, A.key, "Ann")
        assert await repo.recruiter_names(stored.id) == {A.key: "Ann"}
    finally:
        await repo.close()


async def test_sqlite_upgrade_keeps_recruiters_anonymous(cipher: TokenCipher) -> None:
    await _upgrade_keeps_recruiters_anonymous("sqlite:///:memory:", cipher)


@pytest.mark.postgres
async def test_postgres_upgrade_keeps_recruiters_anonymous(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _upgrade_keeps_recruiters_anonymous(postgres_schema_url, cipher)
