"""Channels where the bot may post: remembered per platform, renamed in place, and forgotten
with every card posted in them, on both back ends; an older database upgrades to hold them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.crypto import TokenCipher
from bot.domain.cards import CardKind, PostedCard
from bot.domain.channels import KnownChannel
from bot.domain.refs import ChatRef, MessageRef
from bot.ports import Repository
from storage import migrations, open_repository
from storage.repository import SqlRepository
from tests.integration.storage.builders import T0, campaign, store_campaign_as_before

NEWS = ChatRef("telegram", "-100500")
DIGEST = ChatRef("telegram", "-100600")
GROUP = ChatRef("telegram", "-100300")


def card(campaign_id: int, chat: ChatRef, message_id: str) -> PostedCard:
    return PostedCard(campaign_id, CardKind.PROMOTION, MessageRef(chat, message_id), T0)


async def test_channels_are_kept_per_platform_and_renamed_in_place(any_repo: Repository) -> None:
    assert await any_repo.channels_on("telegram") == []
    news = KnownChannel(NEWS, "River news", "rivernews", T0)
    await any_repo.save_channel(news)
    await any_repo.save_channel(KnownChannel(DIGEST, "A digest", "", T0))
    await any_repo.save_channel(KnownChannel(ChatRef("discord", "9"), "Other", "", T0))
    assert [c.chat for c in await any_repo.channels_on("telegram")] == [DIGEST, NEWS]

    later = T0 + timedelta(days=1)
    await any_repo.save_channel(KnownChannel(NEWS, "Rivers daily", "riversdaily", later))
    stored = [c for c in await any_repo.channels_on("telegram") if c.chat == NEWS]
    assert stored == [KnownChannel(NEWS, "Rivers daily", "riversdaily", T0)]  # first seen kept


async def test_forgetting_a_channel_drops_its_cards_only(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    await any_repo.save_channel(KnownChannel(NEWS, "River news", "rivernews", T0))
    await any_repo.add_card(card(stored.id, NEWS, "1"))
    in_group = await any_repo.add_card(card(stored.id, GROUP, "2"))

    assert await any_repo.forget_channel(NEWS) == 1
    assert await any_repo.channels_on("telegram") == []
    assert await any_repo.cards_of(stored.id) == [in_group]
    assert await any_repo.forget_channel(NEWS) == 0  # already forgotten: no error


async def _upgrade_keeps_cards(url: str, cipher: TokenCipher) -> None:
    repo = await open_repository(url, cipher, migrate=False)
    assert isinstance(repo, SqlRepository)
    try:
        await repo.schema_version()
        steps = migrations.load_steps(repo.dialect)
        new = next(s for s in steps if s.name == "known_channels")
        for step in steps[: steps.index(new)]:
            assert await repo.apply_step(step)
        stored = await store_campaign_as_before(repo, campaign())
        assert stored.id is not None
        old = await repo.add_card(card(stored.id, NEWS, "7"))  # posted before the upgrade

        assert await repo.migrate() == len(steps)

        assert await repo.cards_of(stored.id) == [old]
        assert await repo.channels_on("telegram") == []
        await repo.save_channel(KnownChannel(NEWS, "River news", "", T0))
        assert await repo.forget_channel(NEWS) == 1
        assert await repo.cards_of(stored.id) == []
    finally:
        await repo.close()


async def test_sqlite_upgrade_adds_known_channels(cipher: TokenCipher) -> None:
    await _upgrade_keeps_cards("sqlite:///:memory:", cipher)


@pytest.mark.postgres
async def test_postgres_upgrade_adds_known_channels(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    await _upgrade_keeps_cards(postgres_schema_url, cipher)
