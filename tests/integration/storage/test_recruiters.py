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
