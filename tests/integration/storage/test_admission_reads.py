"""Reads that go together come back together (one trip where the back end can), and right."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.ports import Repository
from tests.integration.storage.builders import ALICE, BOB, T0, account, campaign, pledge


async def test_admission_reads_a_new_account_as_none(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    assert stored.id is not None
    read = await any_repo.admission_reads(stored.ref, MASTODON, "mastodon.example", "r1", ALICE)
    assert read.campaign == stored
    assert read.account is None and read.earlier is None
    assert (read.mine, read.supporters) == ([], 0)
    nothing = await any_repo.admission_reads("NOSUCH", MASTODON, "mastodon.example", "r1", ALICE)
    assert nothing == (None, None, None, [], 0)


async def test_admission_reads_the_account_its_pledge_theirs_and_the_count(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    other = await any_repo.add_campaign(campaign("OTHER1", status=CampaignStatus.LIVE))
    assert stored.id is not None and other.id is not None
    alice_first = await any_repo.save_account(account(ALICE, "a1"))
    alice_second = await any_repo.save_account(account(ALICE, "a2"))
    bob = await any_repo.save_account(account(BOB, "b1"))
    first = await any_repo.add_pledge(pledge(stored.id, alice_first, recruited_by="x:1"))
    withdrawn = await any_repo.add_pledge(
        replace(pledge(stored.id, alice_second), status=PledgeStatus.WITHDRAWN)
    )
    await any_repo.add_pledge(pledge(stored.id, bob))
    await any_repo.add_pledge(pledge(other.id, alice_second))  # another campaign's

    read = await any_repo.admission_reads(stored.ref, MASTODON, "mastodon.example", "a2", ALICE)

    assert read.campaign == stored
    assert read.account == alice_second
    assert read.earlier == withdrawn  # this account's pledge to this campaign
    assert read.mine == [first, withdrawn]  # Alice's pledges to it, by id
    assert read.mine[0].recruited_by == "x:1"
    assert read.supporters == 2  # Alice (withdrawn once, standing once) and Bob
    assert read.supporters == await any_repo.supporter_count(stored.id)


async def test_a_links_nonce_and_campaign_are_read_together(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    assert await any_repo.nonce_and_campaign("n1", stored.ref) == (False, stored)
    assert await any_repo.consume_nonce("n1", T0 + timedelta(days=1))
    assert await any_repo.nonce_and_campaign("n1", stored.ref) == (True, stored)
    assert await any_repo.nonce_and_campaign("n2", "NOSUCH") == (False, None)


async def test_a_recruiters_consent_and_the_count_are_read_together(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    assert stored.id is not None
    linked = await any_repo.save_account(account(ALICE, "a1"))
    await any_repo.add_pledge(pledge(stored.id, linked))
    assert await any_repo.named_and_supporters(stored.id, ALICE.key) == (False, 1)
    await any_repo.name_recruiter(stored.id, ALICE.key, "Alice")
    await any_repo.name_recruiter(stored.id, BOB.key, "Bob")
    assert await any_repo.named_and_supporters(stored.id, ALICE.key) == (True, 1)
    await any_repo.unname_recruiter(stored.id, ALICE.key)
    assert await any_repo.named_and_supporters(stored.id, ALICE.key) == (False, 1)
