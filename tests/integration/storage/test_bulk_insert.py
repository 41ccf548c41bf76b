"""``save_accounts`` and ``add_pledges``: many rows in one transaction, on both back ends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.errors import DomainError, LinkedByOther
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from tests.integration.storage.builders import ALICE, BOB, account, campaign, pledge


async def test_save_accounts_inserts_and_updates_in_order(any_repo: Repository) -> None:
    existing = await any_repo.save_account(account(ALICE, "r1", followers=1))
    fresh = [account(UserRef("telegram", str(n)), f"n{n}", followers=n) for n in range(3)]

    saved = await any_repo.save_accounts(
        [fresh[0], replace(account(ALICE, "r1"), followers=99), fresh[1], fresh[2]]
    )

    assert [a.remote_id for a in saved] == ["n0", "r1", "n1", "n2"]
    assert saved[1].id == existing.id  # same network, instance, remote id: updated
    assert saved[1].owner == ALICE and saved[1].followers == 99
    assert len({a.id for a in saved}) == 4
    for stored in saved:
        assert stored.id is not None
        assert await any_repo.get_account(stored.id) == stored
    assert saved[2].tokens == fresh[1].tokens  # encrypted at rest, read back intact


async def test_save_accounts_never_moves_an_account_and_saves_nothing_then(
    any_repo: Repository,
) -> None:
    alices = await any_repo.save_account(account(ALICE, "r1", followers=1))
    assert alices.id is not None
    stamps = await any_repo.account_stamps([alices.id])
    newcomer = UserRef("telegram", "77")

    with pytest.raises(DomainError) as refused:
        await any_repo.save_accounts(
            [account(newcomer, "n1"), replace(account(BOB, "r1"), followers=99)]
        )

    assert refused.value.key == "account.linked_by_other"
    assert isinstance(refused.value, LinkedByOther)  # the pledge service shows the account
    assert refused.value.account.remote_id == "r1"
    assert await any_repo.get_account(alices.id) == alices
    assert await any_repo.account_stamps([alices.id]) == stamps
    assert await any_repo.accounts_of(newcomer) == []  # one transaction: nothing kept
    assert await any_repo.accounts_of(BOB) == []


async def test_add_pledges_skips_accounts_that_already_pledged(any_repo: Repository) -> None:
    live = await any_repo.add_campaign(campaign())
    assert live.id is not None
    accounts = await any_repo.save_accounts(
        [account(UserRef("telegram", str(n)), f"p{n}") for n in range(4)]
    )
    first = await any_repo.add_pledge(pledge(live.id, accounts[1]))

    added = await any_repo.add_pledges(
        [pledge(live.id, linked, message=f"own words {n}") for n, linked in enumerate(accounts)]
    )

    assert [p.account_id for p in added] == [accounts[0].id, accounts[2].id, accounts[3].id]
    assert [p.message for p in added] == ["own words 0", "own words 2", "own words 3"]
    assert all(p.id is not None and p.status is PledgeStatus.PLEDGED for p in added)
    for stored in added:
        assert stored.id is not None
        assert await any_repo.get_pledge(stored.id) == stored
    stored_first = await any_repo.get_pledge(first.id or 0)
    assert stored_first == first  # the earlier pledge is untouched
    assert len(await any_repo.pledges_of_campaign(live.id)) == 4


async def test_bulk_calls_with_nothing_do_nothing(any_repo: Repository) -> None:
    assert await any_repo.save_accounts([]) == []
    assert await any_repo.add_pledges([]) == []


async def test_many_accounts_and_pledges_cross_statement_chunks(any_repo: Repository) -> None:
    live = await any_repo.add_campaign(campaign())
    assert live.id is not None
    people = [UserRef("telegram", str(n)) for n in range(5_200)]  # more than one chunk

    accounts = await any_repo.save_accounts([account(p, f"c{n}") for n, p in enumerate(people)])
    added = await any_repo.add_pledges([pledge(live.id, linked) for linked in accounts])

    assert [a.remote_id for a in accounts] == [f"c{n}" for n in range(5_200)]
    assert [p.account_id for p in added] == [a.id for a in accounts]
    stats = await any_repo.campaign_stats(live.id)
    assert stats.supporters == 5_200
