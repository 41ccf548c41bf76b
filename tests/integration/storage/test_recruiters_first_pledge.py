"""Recruiter figures count a person for what their earliest *standing* pledge says, on
SQLite and PostgreSQL: a later recruited pledge of someone who came on their own credits
nobody, and a withdrawn first pledge gives way to the next one. And what a page shows,
read in one transaction, is what the separate reads say."""

from __future__ import annotations

from dataclasses import replace

from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.ports import Repository
from tests.integration.storage.builders import T0, campaign
from tests.integration.storage.test_recruiters import A, B, _pledge

E = UserRef("telegram", "5", "E", "en")
F = UserRef("discord", "6", "F", "en")


async def test_only_the_earliest_standing_pledge_of_a_person_counts(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    cid = stored.id or 0
    await _pledge(any_repo, cid, A, 1)
    await _pledge(any_repo, cid, B, 2)
    await _pledge(any_repo, cid, E, 3)  # came on their own...
    await _pledge(any_repo, cid, E, 4, by=A)  # ...then pledged a second account via A
    first = await _pledge(any_repo, cid, F, 5, by=B)
    await _pledge(any_repo, cid, F, 6, by=A)
    assert [(r.key, r.recruited) for r in await any_repo.recruiters(cid)] == [(B.key, 1)]

    await any_repo.update_pledge(change_status(first, PledgeStatus.WITHDRAWN, at=T0))

    assert [(r.key, r.recruited) for r in await any_repo.recruiters(cid)] == [(A.key, 1)]


async def test_shown_figures_are_the_four_reads_in_one(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    cid = stored.id or 0
    await _pledge(any_repo, cid, A, 1)
    second = await _pledge(any_repo, cid, B, 2, by=A)
    third = await _pledge(any_repo, cid, E, 3, by=B, network=X)
    await _pledge(any_repo, cid, F, 4, by=A)
    await any_repo.name_recruiter(cid, A.key, "Ann")
    for posted, url in ((second, "https://m/2"), (third, "https://x/3")):
        await any_repo.update_pledge(
            replace(change_status(posted, PledgeStatus.POSTED, at=T0), remote_post_url=url)
        )

    shown = await any_repo.shown_figures(cid, 5)

    assert shown == (
        await any_repo.campaign_stats(cid),
        await any_repo.recruiters(cid),
        {A.key: "Ann"},
        ["https://m/2", "https://x/3"],
    )
    assert shown[0].supporters == 4 and shown[0].posted == 2
    assert [(r.key, r.recruited) for r in shown[1]] == [(A.key, 2), (B.key, 1)]
    assert (await any_repo.shown_figures(cid, 1))[3] == ["https://m/2"]
    assert (await any_repo.shown_figures(cid, 0))[3] == []
