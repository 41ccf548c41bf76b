"""Organiser updates and their mutes on SQLite and PostgreSQL: the rolling limit taken in
one transaction (two at once never both take the last slot), the audit counts, mutes
per person and campaign, dropped when the person is erased."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.campaign import CampaignStatus
from bot.domain.updates import CampaignUpdate
from bot.ports import Repository
from tests.integration.storage.builders import ALICE, BOB, T0, account, campaign, pledge


async def test_the_limit_counts_updates_after_the_window_start(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    other = await any_repo.add_campaign(campaign("OTHER1", status=CampaignStatus.LIVE))
    assert stored.id is not None and other.id is not None
    day = timedelta(hours=24)
    for hour in range(2):
        at = T0 + timedelta(hours=hour)
        assert await any_repo.add_update(
            CampaignUpdate(stored.id, f"news {hour}", at), since=at - day, limit=2
        )
    late = T0 + timedelta(hours=3)
    refused = CampaignUpdate(stored.id, "too many", late)
    assert await any_repo.add_update(refused, since=late - day, limit=2) is None
    assert await any_repo.add_update(  # another campaign has its own limit
        CampaignUpdate(other.id, "elsewhere", late), since=late - day, limit=2
    )
    assert await any_repo.update_times(stored.id, late - day) == [
        T0,
        T0 + timedelta(hours=1),
    ]
    assert await any_repo.update_times(stored.id, T0) == [T0 + timedelta(hours=1)]
    next_day = T0 + day
    again = await any_repo.add_update(
        CampaignUpdate(stored.id, "again", next_day), since=next_day - day, limit=2
    )
    assert again is not None and again.id is not None

    done = CampaignUpdate(
        stored.id, "again", next_day, total=5, reached=3, muted=1, unreachable=1, id=again.id
    )
    await any_repo.finish_update(done)
    assert (await any_repo.updates_of(stored.id))[-1] == done
    assert [u.text for u in await any_repo.updates_of(stored.id)] == [
        "news 0",
        "news 1",
        "again",
    ]


async def test_two_updates_at_once_never_both_take_the_last_slot(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    assert stored.id is not None
    since = T0 - timedelta(hours=24)
    results = await asyncio.gather(
        *(
            any_repo.add_update(CampaignUpdate(stored.id, f"race {i}", T0), since=since, limit=1)
            for i in range(4)
        )
    )
    assert len([r for r in results if r is not None]) == 1


async def test_mutes_are_per_person_and_campaign_and_go_with_erasure(
    any_repo: Repository,
) -> None:
    first = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    second = await any_repo.add_campaign(campaign("SECOND", status=CampaignStatus.LIVE))
    assert first.id is not None and second.id is not None
    linked = await any_repo.save_account(account(ALICE, "r1"))
    await any_repo.add_pledge(pledge(first.id, linked))
    for campaign_id in (first.id, second.id):
        await any_repo.set_update_mute(campaign_id, ALICE, muted=True, at=T0)
    await any_repo.set_update_mute(first.id, ALICE, muted=True, at=T0)  # idempotent
    await any_repo.set_update_mute(first.id, BOB, muted=True, at=T0)
    assert await any_repo.muted_people(first.id) == {ALICE.key, BOB.key}

    await any_repo.set_update_mute(first.id, BOB, muted=False, at=T0)
    await any_repo.set_update_mute(first.id, BOB, muted=False, at=T0)  # idempotent
    assert await any_repo.muted_people(first.id) == {ALICE.key}

    await any_repo.erase_supporter(ALICE)
    assert await any_repo.muted_people(first.id) == set()
    assert await any_repo.muted_people(second.id) == set()
