"""A campaign's story and picture key on SQLite and PostgreSQL, and the upgrade that adds
them: campaigns stored before step 16 read back with neither."""

from __future__ import annotations

from dataclasses import replace

from bot.crypto import TokenCipher
from bot.ports import Repository
from tests.integration.storage.builders import campaign, store_campaign_as_before
from tests.integration.storage.test_upgrade import _at_step, old_database  # noqa: F401

STORY = "Our river is dying.\n\nOn Saturday <b>we</b> speak up: https://river.example?a=1&b=2"
KEY = "0123456789abcdef" * 4 + ".jpg"


async def test_story_and_picture_are_stored_and_changed(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(story=STORY, picture=KEY))
    assert (stored.story, stored.picture) == (STORY, KEY)
    found = await any_repo.find_campaign(stored.ref)
    assert found is not None and (found.story, found.picture) == (STORY, KEY)
    changed = await any_repo.update_campaign(replace(stored, story=None, picture=None))
    assert (changed.story, changed.picture) == (None, None)
    plain = await any_repo.add_campaign(campaign("PLAIN2"))
    assert (plain.story, plain.picture) == (None, None)


async def test_campaigns_stored_before_the_upgrade_have_no_story_or_picture(
    old_database: str,  # noqa: F811
    cipher: TokenCipher,
) -> None:
    repo = await _at_step(old_database, cipher, 15)
    try:
        older = await store_campaign_as_before(repo, campaign(), column="story")
        await repo.migrate()
        assert older.id is not None
        legacy = await repo.get_campaign(older.id)
        assert legacy is not None and (legacy.story, legacy.picture) == (None, None)
        assert legacy.title == "Save the river"
    finally:
        await repo.close()
