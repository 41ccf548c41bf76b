"""Rejections waiting for the moderator's reason: one per moderator, with an expiry, on
both back ends; and an upgrade moves the old key-suffixed dialog rows where they belong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.crypto import TokenCipher
from bot.domain.moderation import PendingReason
from bot.ports import Repository
from storage import migrations, open_repository
from storage.repository import SqlRepository
from tests.integration.storage.builders import T0, campaign, store_campaign_as_before


async def test_a_pending_reason_is_kept_per_moderator_until_dropped(any_repo: Repository) -> None:
    first = await any_repo.add_campaign(campaign("AAAAAA"))
    second = await any_repo.add_campaign(campaign("BBBBBB"))
    assert first.id is not None and second.id is not None
    assert await any_repo.pending_reason("telegram:7", T0) is None
    waiting = PendingReason("telegram:7", first.id, "501", T0 + timedelta(days=1))
    await any_repo.save_pending_reason(waiting)
    await any_repo.save_pending_reason(
        PendingReason("telegram:8", second.id, "502", T0 + timedelta(days=1))
    )
    assert await any_repo.pending_reason("telegram:7", T0) == waiting

    again = PendingReason("telegram:7", second.id, "503", T0 + timedelta(days=2))
    await any_repo.save_pending_reason(again)  # a second Reject replaces the first
    assert await any_repo.pending_reason("telegram:7", T0) == again

    await any_repo.drop_pending_reason("telegram:7")
    assert await any_repo.pending_reason("telegram:7", T0) is None
    assert (await any_repo.pending_reason("telegram:8", T0)) is not None  # others untouched
    await any_repo.drop_pending_reason("telegram:7")  # nothing left: no error


async def test_an_expired_pending_reason_is_not_returned_and_is_purged(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    expires = T0 + timedelta(days=1)
    await any_repo.save_pending_reason(PendingReason("discord:9", stored.id, "77", expires))
    assert await any_repo.pending_reason("discord:9", expires - timedelta(seconds=1))
    assert await any_repo.pending_reason("discord:9", expires) is None
    assert await any_repo.purge_expired(expires - timedelta(seconds=1)) == 0
    assert await any_repo.purge_expired(expires) == 1
    assert await any_repo.pending_reason("discord:9", T0) is None


async def _upgrade_moves_old_rows(url: str, cipher: TokenCipher) -> None:
    repo = await open_repository(url, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        steps = migrations.load_steps(repo.dialect)
        new = next(s for s in steps if s.name == "pending_reject_reasons")
        for step in steps[: steps.index(new)]:
            assert await repo.apply_step(step)
        stored = await store_campaign_as_before(repo, campaign())
        # as the code before this step kept them, in the dialogs table under made-up keys
        await repo.save_dialog(
            "telegram:7:reject-reason", {"campaign_id": stored.id, "prompt_id": 4242}
        )
        await repo.save_dialog("telegram:8:reject-reason", {"campaign_id": 999, "prompt_id": 1})
        await repo.save_dialog("discord:5", {"step": "goal", "title": "Save the river"})
        form = {"values": {"title": "Save the river"}, "networks": ["x"], "kept_message": None}
        await repo.save_dialog("discord:5:discord-form", form)
        await repo.save_dialog("discord:6:discord-form", form)  # its dialog is over

        assert await repo.migrate() == len(steps)

        now = datetime.now(UTC)  # the moved rows wait one more day from the upgrade
        moved = await repo.pending_reason("telegram:7", now)
        assert moved is not None and (moved.campaign_id, moved.prompt_id) == (stored.id, "4242")
        assert moved.expires_at > now
        assert await repo.pending_reason("telegram:8", now) is None  # its campaign is gone
        for old in (
            "telegram:7:reject-reason",
            "discord:5:discord-form",
            "discord:6:discord-form",
        ):
            assert await repo.load_dialog(old) is None
        assert await repo.load_dialog("discord:5") == {
            "step": "goal",
            "title": "Save the river",
            "form": form,
        }
    finally:
        await repo.close()


async def test_sqlite_upgrade_moves_the_key_suffixed_rows(cipher: TokenCipher) -> None:
    await _upgrade_moves_old_rows("sqlite:///:memory:", cipher)


@pytest.mark.postgres
async def test_postgres_upgrade_moves_the_key_suffixed_rows(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _upgrade_moves_old_rows(postgres_schema_url, cipher)
