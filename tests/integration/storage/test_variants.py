"""Variants on SQLite and PostgreSQL: a campaign's wordings and each pledge's stored,
counted per wording (the upgrade test is in test_upgrade.py)."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.domain.variants import Variant
from bot.ports import Repository
from tests.integration.storage.builders import (
    ALICE,
    BOB,
    T0,
    account,
    campaign,
    pledge,
)

VARIANTS = (
    Variant("Join us today #SaveTheRiver https://example.org/river"),
    Variant("Rejoignez-nous #SaveTheRiver https://example.org/river", "fr"),
)


async def test_a_campaigns_variants_and_a_pledges_wording_round_trip(
    any_repo: Repository,
) -> None:
    stored = await any_repo.add_campaign(campaign(variants=VARIANTS))
    assert stored.id is not None
    assert (await any_repo.get_campaign(stored.id)).variants == VARIANTS  # type: ignore[union-attr]
    updated = await any_repo.update_campaign(replace(stored, variants=VARIANTS[:1]))
    assert (await any_repo.find_campaign(stored.ref)).variants == VARIANTS[:1]  # type: ignore[union-attr]
    assert updated.variants == VARIANTS[:1]

    linked = await any_repo.save_account(account(ALICE, "r1"))
    made = await any_repo.add_pledge(pledge(stored.id, linked, variant=2))
    assert (await any_repo.get_pledge(made.id or 0)).variant == 2  # type: ignore[union-attr]
    [bulk] = await any_repo.add_pledges(
        [pledge(stored.id, await any_repo.save_account(account(BOB, "r2")), variant=1)]
    )
    assert bulk.variant == 1


async def test_variant_counts_by_status_leave_own_words_out(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE, variants=VARIANTS))
    cid = stored.id or 0
    made = []
    for number, variant in enumerate((None, 0, 1, 1, 2, 2)):
        person = UserRef("telegram", str(900 + number), f"P{number}", "en")
        linked = await any_repo.save_account(account(person, f"v{number}"))
        made.append(await any_repo.add_pledge(pledge(cid, linked, variant=variant)))
    own = await any_repo.save_account(account(UserRef("telegram", "999", "Own"), "own"))
    await any_repo.add_pledge(pledge(cid, own, message="My own words", variant=None))
    await any_repo.update_pledge(change_status(made[-1], PledgeStatus.WITHDRAWN, at=T0))

    assert await any_repo.variant_counts(cid) == {0: 2, 1: 2, 2: 2}  # none counts as 0
    assert await any_repo.variant_counts(cid, [PledgeStatus.PLEDGED]) == {0: 2, 1: 2, 2: 1}
    assert await any_repo.variant_counts(cid + 1000) == {}
