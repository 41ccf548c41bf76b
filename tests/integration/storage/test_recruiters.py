"""Recruiter figures on SQLite and PostgreSQL: A brings B and D, B brings C.

Ordering is by people brought, then by who brought someone first; a recruited person with
two accounts counts once; a withdrawn pledge does not count; erasing a recruiter keeps the
people they brought counted without naming them.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import Network
from bot.domain.pledge import Pledge, PledgeStatus, change_status
from bot.domain.recruits import Recruiter
from bot.domain.refs import UserRef
from bot.ports import Repository
from tests.integration.storage.builders import T0, account, campaign, pledge

A = UserRef("telegram", "1", "A", "en")
B = UserRef("telegram", "2", "B", "en")
C = UserRef("discord", "3", "C", "en")
D = UserRef("telegram", "4", "D", "en")


async def _pledge(
    repo: Repository,
    campaign_id: int,
    who: UserRef,
    minute: int,
    by: UserRef | None = None,
    network: Network = MASTODON,
) -> Pledge:
    linked = await repo.save_account(account(who, f"{who.id}-{minute}", network=network))
    at = T0 + timedelta(minutes=minute)
    recruited_by = by.key if by else None
    return await repo.add_pledge(
        pledge(campaign_id, linked, created_at=at, recruited_by=recruited_by)
    )


async def test_a_recruit_chain_counts_each_person_once_in_order(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    cid = stored.id or 0
    await _pledge(any_repo, cid, A, 1)
    await _pledge(any_repo, cid, B, 2, by=A)
    await _pledge(any_repo, cid, B, 3, network=X, by=A)  # B's second account
    await _pledge(any_repo, cid, C, 4, by=B)
    assert await any_repo.recruiters(cid) == [
        Recruiter(A.key, 1, T0 + timedelta(minutes=2)),
        Recruiter(B.key, 1, T0 + timedelta(minutes=4)),
    ]
    d = await _pledge(any_repo, cid, D, 5, by=B)
    assert [(r.key, r.recruited) for r in await any_repo.recruiters(cid)] == [
        (B.key, 2),
        (A.key, 1),
    ]
    await any_repo.update_pledge(change_status(d, PledgeStatus.WITHDRAWN, at=T0))
    assert [(r.key, r.recruited) for r in await any_repo.recruiters(cid)] == [
        (A.key, 1),
        (B.key, 1),
    ]
    assert await any_repo.recruiters(cid + 1) == []


async def test_erasing_a_recruiter_unnames_them(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    cid = stored.id or 0
    await _pledge(any_repo, cid, A, 1)
    await _pledge(any_repo, cid, B, 2, by=A)
    await any_repo.erase_supporter(A)
    assert await any_repo.recruiters(cid) == []
    [left] = await any_repo.pledges_of_campaign(cid)
    assert (left.supporter, left.recruited_by) == (B, None)
    assert (await any_repo.campaign_stats(cid)).supporters == 1


async def test_a_recruit_code_names_the_supporter_of_its_campaign_only(
    any_repo: Repository,
) -> None:
    """The stored code is found by its campaign and exact value, whatever the pledge's
    status; the earliest pledge wins; erasing the supporter takes the code with the row."""
    first = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    other = await any_repo.add_campaign(campaign("OTHER1", status=CampaignStatus.LIVE))
    cid, oid = first.id or 0, other.id or 0
    a = await any_repo.add_pledge(
        pledge(cid, await any_repo.save_account(account(A, "a1")), recruit_code="AAAAAAAA")
    )
    assert a.recruit_code == "AAAAAAAA"
    b = await any_repo.add_pledge(
        pledge(cid, await any_repo.save_account(account(B, "b1")), recruit_code="BBBBBBBB")
    )
    await any_repo.add_pledge(  # the same code on a later row of the campaign: not chosen
        pledge(cid, await any_repo.save_account(account(C, "c1")), recruit_code="AAAAAAAA")
    )
    assert await any_repo.supporter_by_recruit_code(cid, "AAAAAAAA") == A
    assert await any_repo.supporter_by_recruit_code(cid, "aaaaaaaa") is None  # exact
    assert await any_repo.supporter_by_recruit_code(oid, "AAAAAAAA") is None
    assert await any_repo.supporter_by_recruit_code(cid, "CCCCCCCC") is None

    withdrawn = await any_repo.update_pledge(change_status(b, PledgeStatus.WITHDRAWN, at=T0))
    assert withdrawn.recruit_code == "BBBBBBBB"  # an update keeps the code
    assert await any_repo.supporter_by_recruit_code(cid, "BBBBBBBB") == B
    await any_repo.erase_supporter(B)
    assert await any_repo.supporter_by_recruit_code(cid, "BBBBBBBB") is None


async def test_pledges_without_a_code_are_listed_in_batches_and_coded_once(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    other = await any_repo.add_campaign(campaign("OTHER1", status=CampaignStatus.LIVE))
    cid, oid = stored.id or 0, other.id or 0
    old = [
        await any_repo.add_pledge(pledge(cid, await any_repo.save_account(account(who, r))))
        for who, r in ((A, "a1"), (B, "b1"), (C, "c1"))
    ]
    coded = await any_repo.add_pledge(
        pledge(cid, await any_repo.save_account(account(D, "d1")), recruit_code="DDDDDDDD")
    )
    await any_repo.add_pledge(pledge(oid, await any_repo.save_account(account(D, "d2"))))
    ids = [p.id or 0 for p in old]
    assert await any_repo.pledges_without_recruit_code(cid, 2) == [(ids[0], A), (ids[1], B)]
    await any_repo.set_recruit_codes({ids[0]: "AAAAAAAA", coded.id or 0: "XXXXXXXX"})
    assert await any_repo.pledges_without_recruit_code(cid, 10) == [(ids[1], B), (ids[2], C)]
    await any_repo.set_recruit_codes({ids[1]: "BBBBBBBB", ids[2]: "CCCCCCCC"})
    await any_repo.set_recruit_codes({})
    assert await any_repo.pledges_without_recruit_code(cid, 10) == []
    assert await any_repo.supporter_by_recruit_code(cid, "CCCCCCCC") == C
    assert await any_repo.supporter_by_recruit_code(cid, "DDDDDDDD") == D  # kept its code
    assert await any_repo.supporter_by_recruit_code(cid, "XXXXXXXX") is None
    again = await any_repo.get_pledge(ids[0])
    assert again is not None and again.recruit_code == "AAAAAAAA"
    assert len(await any_repo.pledges_without_recruit_code(oid, 10)) == 1


async def test_an_update_from_a_copy_read_before_the_code_was_set_keeps_the_code(
    any_repo: Repository,
) -> None:
    """Codes are filled in without bumping the version (``set_recruit_codes``), so a pledge
    read before may still be updated: that update must not clear the code."""
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    cid = stored.id or 0
    read_before = await any_repo.add_pledge(
        pledge(cid, await any_repo.save_account(account(A, "a1")))
    )
    await any_repo.set_recruit_codes({read_before.id or 0: "AAAAAAAA"})
    updated = await any_repo.update_pledge(
        change_status(read_before, PledgeStatus.WITHDRAWN, at=T0)
    )
    assert updated.recruit_code == "AAAAAAAA"
    assert await any_repo.pledges_without_recruit_code(cid, 10) == []
