"""Every Repository method against real SQLite and real PostgreSQL (``any_repo``)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.sandbox import SANDBOX
from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus, JoinLink, transition
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.errors import DomainError, LinkedByOther, StaleUpdate
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import DeliveryState, PledgeStatus, change_status
from bot.domain.refs import ChatRef, MessageRef
from bot.ports import Repository
from storage import migrations
from tests.integration.storage.builders import (
    ALICE,
    BOB,
    MODERATOR,
    ORGANISER,
    T0,
    account,
    campaign,
    pledge,
    tokens,
)


def _dialect(repo: Repository) -> str:
    return "sqlite" if type(repo).__name__.startswith("Sqlite") else "postgres"


# migrations ---------------------------------------------------------------------------


async def test_migrate_is_idempotent_and_records_each_step(any_repo: Repository) -> None:
    steps = migrations.load_steps(_dialect(any_repo))
    assert await any_repo.migrate() == len(steps)
    assert await any_repo.migrate() == len(steps)
    assert await any_repo.schema_version() == len(steps)  # type: ignore[attr-defined]


async def test_migration_step_already_applied_is_not_rerun(any_repo: Repository) -> None:
    first = migrations.load_steps(_dialect(any_repo))[0]
    assert await any_repo.apply_step(first) is False  # type: ignore[attr-defined]


async def test_failed_step_leaves_nothing_behind(any_repo: Repository) -> None:
    version = await any_repo.schema_version()  # type: ignore[attr-defined]
    broken = migrations.Step(90, "broken", "CREATE TABLE probe (a INTEGER);\nNOT SQL AT ALL;\n")
    with pytest.raises(Exception):  # noqa: B017 - the driver's own syntax error
        await any_repo.apply_step(broken)  # type: ignore[attr-defined]
    assert await any_repo.schema_version() == version  # type: ignore[attr-defined]
    # the table of the failed step was rolled back with it, so it can be created now
    probe = migrations.Step(91, "probe", "CREATE TABLE probe (a INTEGER);\n")
    assert await any_repo.apply_step(probe)  # type: ignore[attr-defined]
    assert await any_repo.schema_version() == 91  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="newer than this code"):
        await any_repo.migrate()


def test_steps_are_numbered_without_gaps() -> None:
    for dialect in ("sqlite", "postgres"):
        steps = migrations.load_steps(dialect)
        assert [step.version for step in steps] == list(range(1, len(steps) + 1))
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        migrations.load_steps("oracle")


# campaigns ----------------------------------------------------------------------------


async def test_campaign_round_trip(any_repo: Repository) -> None:
    paris = timezone(timedelta(hours=1))
    draft = campaign(launch_at=(T0 + timedelta(days=3)).astimezone(paris))
    stored = await any_repo.add_campaign(draft)
    assert stored.id is not None
    assert stored.version == 0
    assert stored == replace(draft, id=stored.id)
    assert stored.launch_at.tzinfo == UTC
    assert stored.launch_at == T0 + timedelta(days=3)
    assert await any_repo.get_campaign(stored.id) == stored
    assert await any_repo.find_campaign("K7QX2M") == stored
    assert await any_repo.find_campaign("NOSUCH") is None
    assert await any_repo.get_campaign(stored.id + 1000) is None


async def test_campaign_with_no_optional_fields(any_repo: Repository) -> None:
    bare = campaign(origin_chat=None, networks=(SANDBOX,), goal=0)
    stored = await any_repo.add_campaign(bare)
    assert await any_repo.get_campaign(stored.id or 0) == stored
    assert stored.decided_by is None and stored.origin_chat is None


async def test_duplicate_campaign_ref_is_refused(any_repo: Repository) -> None:
    await any_repo.add_campaign(campaign("AAAAAA"))
    with pytest.raises(StaleUpdate):
        await any_repo.add_campaign(campaign("AAAAAA", title="Another one"))
    assert len(await any_repo.campaigns_of(ORGANISER)) == 1


async def test_update_campaign_bumps_version_and_refuses_stale(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    live = transition(stored, CampaignStatus.LIVE, at=T0 + timedelta(hours=1), by=MODERATOR)
    saved = await any_repo.update_campaign(live)
    assert saved.version == 1
    assert saved == replace(live, version=1)
    assert saved.decided_by == MODERATOR
    with pytest.raises(StaleUpdate):
        await any_repo.update_campaign(replace(stored, title="Stale edit"))
    assert await any_repo.get_campaign(stored.id or 0) == saved


async def test_concurrent_approvals_exactly_one_wins(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    live = transition(stored, CampaignStatus.LIVE, at=T0, by=MODERATOR)
    rejected = transition(stored, CampaignStatus.REJECTED, at=T0, by=MODERATOR, reason="spam")
    results = await asyncio.gather(
        any_repo.update_campaign(live),
        any_repo.update_campaign(rejected),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], StaleUpdate)
    assert losers[0].key == "error.stale"
    assert await any_repo.get_campaign(stored.id or 0) == winners[0]


async def test_campaigns_of_and_in(any_repo: Repository) -> None:
    first = await any_repo.add_campaign(campaign("AAAAAA"))
    second = await any_repo.add_campaign(campaign("BBBBBB", status=CampaignStatus.DRAFT))
    other = await any_repo.add_campaign(campaign("CCCCCC", organiser=ALICE))
    assert await any_repo.campaigns_of(ORGANISER) == [first, second]
    assert await any_repo.campaigns_of(replace(ORGANISER, name="Renamed")) == [first, second]
    assert await any_repo.campaigns_of(BOB) == []
    pending = await any_repo.campaigns_in([CampaignStatus.PENDING_REVIEW])
    assert pending == [first, other]
    both = await any_repo.campaigns_in({CampaignStatus.DRAFT, CampaignStatus.PENDING_REVIEW})
    assert both == [first, second, other]
    assert await any_repo.campaigns_in([]) == []


# cards --------------------------------------------------------------------------------


async def test_cards(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    assert stored.id is not None
    ref = MessageRef(ChatRef("telegram", "-100123"), "77")
    promo = await any_repo.add_card(PostedCard(stored.id, CardKind.PROMOTION, ref, T0, "fr"))
    moderation = await any_repo.add_card(
        PostedCard(stored.id, CardKind.MODERATION, MessageRef(ChatRef("discord", "9"), "8"), T0)
    )
    assert promo.id is not None and moderation.id is not None
    assert promo == PostedCard(stored.id, CardKind.PROMOTION, ref, T0, "fr", id=promo.id)
    assert await any_repo.cards_of(stored.id) == [promo, moderation]
    assert await any_repo.cards_of(stored.id, CardKind.MODERATION) == [moderation]
    await any_repo.remove_card(promo.id)
    assert await any_repo.cards_of(stored.id, CardKind.PROMOTION) == []
    await any_repo.remove_card(promo.id)  # removing twice is harmless


async def test_a_new_chat_card_replaces_the_one_in_that_chat_only(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    other = await any_repo.add_campaign(campaign(ref="OTHER1"))
    assert stored.id is not None and other.id is not None
    chat, elsewhere = ChatRef("telegram", "-100123"), ChatRef("telegram", "-100999")

    def card(campaign_id: int, where: ChatRef, message_id: str) -> PostedCard:
        return PostedCard(campaign_id, CardKind.PROMOTION, MessageRef(where, message_id), T0)

    first = await any_repo.add_card(card(stored.id, chat, "1"))
    second = await any_repo.add_card(card(stored.id, chat, "2"))  # from before the rule
    kept = [
        await any_repo.add_card(card(stored.id, elsewhere, "3")),
        await any_repo.add_card(card(other.id, chat, "4")),
        await any_repo.add_card(
            PostedCard(stored.id, CardKind.MODERATION, MessageRef(chat, "5"), T0)
        ),
    ]

    new, replaced = await any_repo.replace_chat_card(card(stored.id, chat, "6"))

    assert replaced == [first, second]
    assert new.id is not None and new.message == MessageRef(chat, "6")
    assert await any_repo.cards_of(stored.id) == [kept[0], kept[2], new]
    assert await any_repo.cards_of(other.id) == [kept[1]]
    _, replaced = await any_repo.replace_chat_card(card(stored.id, chat, "7"))
    assert replaced == [new]


# accounts -----------------------------------------------------------------------------


async def test_save_account_inserts_then_upserts(any_repo: Repository) -> None:
    saved = await any_repo.save_account(account(ALICE, "r1"))
    assert saved.id is not None
    assert saved == replace(account(ALICE, "r1"), id=saved.id)
    assert saved.tokens.access_token == "access-r1-test-token-not-real"
    await any_repo.mark_account_revoked(saved.id)
    revoked = await any_repo.get_account(saved.id)
    assert revoked is not None and revoked.revoked

    renamed = replace(ALICE, name="Alice B.", language="fr")  # the same person, renamed
    relinked = await any_repo.save_account(
        account(renamed, "r1", handle="new_handle", followers=99, tokens=tokens("fresh"))
    )
    assert relinked.id == saved.id
    assert relinked.owner == renamed
    assert (relinked.handle, relinked.followers, relinked.revoked) == ("new_handle", 99, False)
    assert relinked.tokens == tokens("fresh")
    assert await any_repo.accounts_of(ALICE) == [relinked]


async def test_save_account_never_moves_an_account_to_another_owner(
    any_repo: Repository,
) -> None:
    alices = await any_repo.save_account(account(ALICE, "r1"))
    assert alices.id is not None
    stamps = await any_repo.account_stamps([alices.id])

    with pytest.raises(DomainError) as refused:
        await any_repo.save_account(
            account(BOB, "r1", handle="bobs_now", followers=1, tokens=tokens("bob"))
        )

    assert refused.value.key == "account.linked_by_other"
    # the refused account rides along: the pledge service shows it as its network does
    assert isinstance(refused.value, LinkedByOther)
    assert refused.value.account.handle == "bobs_now"
    assert await any_repo.get_account(alices.id) == alices  # owner, tokens, handle unchanged
    assert await any_repo.account_stamps([alices.id]) == stamps
    assert await any_repo.accounts_of(BOB) == []
    assert await any_repo.accounts_of(ALICE) == [alices]


async def test_find_account_by_network_instance_and_remote_id(any_repo: Repository) -> None:
    saved = await any_repo.save_account(account(ALICE, "r1"))
    await any_repo.save_account(account(BOB, "r1", network=X))

    assert await any_repo.find_account(MASTODON, "mastodon.example", "r1") == saved
    assert await any_repo.find_account(MASTODON, "other.example", "r1") is None
    assert await any_repo.find_account(MASTODON, "mastodon.example", "r2") is None
    found = await any_repo.find_account(X, "x.com", "r1")
    assert found is not None and found.owner == BOB


async def test_same_remote_id_on_another_instance_is_another_account(
    any_repo: Repository,
) -> None:
    first = await any_repo.save_account(account(ALICE, "r1"))
    second = await any_repo.save_account(account(ALICE, "r1", instance="other.example"))
    third = await any_repo.save_account(account(ALICE, "r1", network=X))
    assert len({first.id, second.id, third.id}) == 3


async def test_get_accounts_and_update_tokens(any_repo: Repository) -> None:
    one = await any_repo.save_account(account(ALICE, "r1"))
    two = await any_repo.save_account(account(ALICE, "r2", network=X))
    assert one.id is not None and two.id is not None
    assert await any_repo.get_accounts([one.id, two.id, 999_999]) == {one.id: one, two.id: two}
    assert await any_repo.get_accounts([]) == {}
    assert await any_repo.get_account(999_999) is None
    new_tokens = replace(tokens("rotated"), refresh_token=None, expires_at=None, scope="")
    await any_repo.update_tokens(two.id, new_tokens)
    updated = await any_repo.get_account(two.id)
    assert updated is not None and updated.tokens == new_tokens
    assert await any_repo.get_account(one.id) == one


# pledges ------------------------------------------------------------------------------


async def _campaign_with_accounts(repo: Repository, count: int = 2) -> tuple[int, list]:
    stored = await repo.add_campaign(campaign())
    assert stored.id is not None
    linked = [
        await repo.save_account(account(ALICE, f"r{i}", followers=10 * (i + 1)))
        for i in range(count)
    ]
    return stored.id, linked


async def test_pledge_round_trip_and_lookup(any_repo: Repository) -> None:
    campaign_id, (first, second) = await _campaign_with_accounts(any_repo)
    new = pledge(campaign_id, first, message="My own words #SaveTheRiver")
    stored = await any_repo.add_pledge(new)
    assert stored.id is not None
    assert stored == replace(new, id=stored.id)
    assert await any_repo.get_pledge(stored.id) == stored
    assert await any_repo.find_pledge(campaign_id, first.id or 0) == stored
    assert await any_repo.find_pledge(campaign_id, second.id or 0) is None
    assert await any_repo.get_pledge(stored.id + 1000) is None


async def test_second_pledge_with_same_account_is_refused(any_repo: Repository) -> None:
    campaign_id, (first, _) = await _campaign_with_accounts(any_repo)
    await any_repo.add_pledge(pledge(campaign_id, first))
    with pytest.raises(DomainError) as refused:
        await any_repo.add_pledge(pledge(campaign_id, first, supporter=BOB))
    assert refused.value.key == "pledge.already"
    assert len(await any_repo.pledges_of_campaign(campaign_id)) == 1


async def test_pledge_for_missing_campaign_fails_and_repo_stays_usable(
    any_repo: Repository,
) -> None:
    campaign_id, (first, _) = await _campaign_with_accounts(any_repo)
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        await any_repo.add_pledge(pledge(campaign_id + 1000, first))
    assert await any_repo.pledges_of_campaign(campaign_id) == []
    assert (await any_repo.add_pledge(pledge(campaign_id, first))).id is not None


async def test_update_pledge_optimistic_locking(any_repo: Repository) -> None:
    campaign_id, (first, _) = await _campaign_with_accounts(any_repo)
    stored = await any_repo.add_pledge(pledge(campaign_id, first))
    withdrawn = await any_repo.update_pledge(change_status(stored, PledgeStatus.WITHDRAWN, at=T0))
    assert withdrawn.version == 1 and withdrawn.status is PledgeStatus.WITHDRAWN
    with pytest.raises(StaleUpdate):
        await any_repo.update_pledge(change_status(stored, PledgeStatus.WITHDRAWN, at=T0))
    renewed = await any_repo.update_pledge(
        replace(change_status(withdrawn, PledgeStatus.PLEDGED, at=T0), supporter=BOB)
    )
    assert renewed.version == 2 and renewed.supporter == BOB
    assert await any_repo.get_pledge(stored.id or 0) == renewed


async def test_pledges_of_campaign_and_supporter(any_repo: Repository) -> None:
    campaign_id, (first, second) = await _campaign_with_accounts(any_repo)
    mine = await any_repo.add_pledge(pledge(campaign_id, first))
    bobs = await any_repo.add_pledge(pledge(campaign_id, second, supporter=BOB))
    bobs = await any_repo.update_pledge(change_status(bobs, PledgeStatus.WITHDRAWN, at=T0))
    assert await any_repo.pledges_of_campaign(campaign_id) == [mine, bobs]
    assert await any_repo.pledges_of_campaign(campaign_id, [PledgeStatus.PLEDGED]) == [mine]
    assert await any_repo.pledges_of_campaign(campaign_id, ["withdrawn"]) == [bobs]
    assert await any_repo.pledges_of_campaign(campaign_id, []) == []
    assert await any_repo.pledges_of_supporter(ALICE) == [mine]
    assert await any_repo.pledges_of_supporter(BOB) == [bobs]


async def test_stats_are_derived_from_rows(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    campaign_id = stored.id or 0
    assert await any_repo.campaign_stats(campaign_id) == CampaignStats()
    a1 = await any_repo.save_account(account(ALICE, "a1", followers=100))
    a2 = await any_repo.save_account(account(ALICE, "a2", network=X, followers=20))
    b1 = await any_repo.save_account(account(BOB, "b1", followers=3))
    b2 = await any_repo.save_account(account(BOB, "b2", network=X, followers=4000))
    p_a1 = await any_repo.add_pledge(pledge(campaign_id, a1))
    p_a2 = await any_repo.add_pledge(pledge(campaign_id, a2))
    p_b1 = await any_repo.add_pledge(pledge(campaign_id, b1))
    p_b2 = await any_repo.add_pledge(pledge(campaign_id, b2))
    assert await any_repo.campaign_stats(campaign_id) == CampaignStats(
        supporters=2, accounts=4, reach=4123, by_network={"mastodon": 2, "x": 2}
    )

    await any_repo.update_pledge(change_status(p_b2, PledgeStatus.WITHDRAWN, at=T0))
    await any_repo.update_pledge(change_status(p_a1, PledgeStatus.POSTED, at=T0))
    await any_repo.update_pledge(change_status(p_b1, PledgeStatus.FAILED, at=T0, reason="x"))
    assert await any_repo.campaign_stats(campaign_id) == CampaignStats(
        supporters=2,
        accounts=3,
        reach=123,
        posted=1,
        failed=1,
        posted_reach=100,
        by_network={"mastodon": 2, "x": 1},
        posted_by_network={"mastodon": 1},
    )

    assert await any_repo.erase_supporter(ALICE) == 2
    assert await any_repo.campaign_stats(campaign_id) == CampaignStats(
        supporters=1, accounts=1, reach=3, failed=1, by_network={"mastodon": 1}
    )
    assert await any_repo.get_pledge(p_a2.id or 0) is None
    assert await any_repo.accounts_of(ALICE) == []
    assert len(await any_repo.accounts_of(BOB)) == 2
    other = await any_repo.add_campaign(campaign("OTHER2"))
    assert await any_repo.campaign_stats(other.id or 0) == CampaignStats()


async def test_erase_supporter_removes_pledges_made_through_their_accounts(
    any_repo: Repository,
) -> None:
    campaign_id, (first,) = await _campaign_with_accounts(any_repo, count=1)
    # Bob pledged through an account Alice owns now: it must go with Alice's account.
    await any_repo.add_pledge(pledge(campaign_id, first, supporter=BOB))
    bobs_own = await any_repo.save_account(account(BOB, "b1"))
    alices_via_bob = await any_repo.add_pledge(pledge(campaign_id, bobs_own, supporter=ALICE))
    assert await any_repo.erase_supporter(ALICE) == 1
    assert await any_repo.pledges_of_campaign(campaign_id) == []
    assert await any_repo.get_pledge(alices_via_bob.id or 0) is None
    assert await any_repo.get_account(bobs_own.id or 0) == bobs_own
    assert await any_repo.erase_supporter(ALICE) == 0


async def test_bulk_delivery_updates(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    campaign_id = stored.id or 0
    pledges = []
    for i in range(120):
        linked = await any_repo.save_account(account(ALICE, f"bulk{i}", followers=i))
        pledges.append(await any_repo.add_pledge(pledge(campaign_id, linked)))
    ids = [p.id or 0 for p in pledges]

    queued = await any_repo.set_delivery(ids, DeliveryState.QUEUED, expected=DeliveryState.WAITING)
    assert queued == ids
    again = await any_repo.set_delivery(ids, DeliveryState.QUEUED, expected=DeliveryState.WAITING)
    assert again == []
    sending = await any_repo.set_delivery(ids[:50], DeliveryState.SENDING)
    assert sending == ids[:50]
    assert await any_repo.set_delivery([], DeliveryState.DONE) == []

    results = []
    for p in pledges[:100]:
        current = replace(p, delivery=DeliveryState.SENDING)
        if (p.id or 0) % 2:
            posted = change_status(current, PledgeStatus.POSTED, at=T0 + timedelta(days=3))
            results.append(
                replace(posted, remote_post_id=f"post-{p.id}", remote_post_url=f"https://m/{p.id}")
            )
        else:
            results.append(change_status(current, PledgeStatus.FAILED, at=T0, reason="revoked"))
    await any_repo.record_deliveries(results)

    loaded = {p.id: p for p in await any_repo.pledges_of_campaign(campaign_id)}
    for result in results:
        stored_pledge = loaded[result.id]
        assert stored_pledge.status is result.status
        assert stored_pledge.delivery is DeliveryState.DONE
        assert stored_pledge.remote_post_id == result.remote_post_id
        assert stored_pledge.remote_post_url == result.remote_post_url
        assert stored_pledge.posted_at == result.posted_at
        assert stored_pledge.failure_reason == result.failure_reason
        assert stored_pledge.delivery_mode is DeliveryMode.AUTO
    for untouched in ids[100:]:
        assert loaded[untouched].status is PledgeStatus.PLEDGED
        assert loaded[untouched].delivery is DeliveryState.QUEUED
    stats = await any_repo.campaign_stats(campaign_id)
    assert stats.posted == 50 and stats.failed == 50 and stats.accounts == 120


async def test_bulk_updates_bump_version_so_stale_views_are_refused(
    any_repo: Repository,
) -> None:
    campaign_id, (first,) = await _campaign_with_accounts(any_repo, count=1)
    stored = await any_repo.add_pledge(pledge(campaign_id, first))
    await any_repo.set_delivery([stored.id or 0], DeliveryState.QUEUED)
    with pytest.raises(StaleUpdate):
        await any_repo.update_pledge(change_status(stored, PledgeStatus.WITHDRAWN, at=T0))
    fresh = await any_repo.get_pledge(stored.id or 0)
    assert fresh is not None and fresh.version == 1 and fresh.delivery is DeliveryState.QUEUED


# once-only events, nonces -------------------------------------------------------------


async def test_claim_event_only_once(any_repo: Repository) -> None:
    first = await any_repo.add_campaign(campaign("AAAAAA"))
    second = await any_repo.add_campaign(campaign("BBBBBB"))
    milestone = EventKind.MILESTONE
    assert await any_repo.claim_event(first.id or 0, milestone, T0, subject=50)
    assert not await any_repo.claim_event(first.id or 0, milestone, T0, subject=50)
    assert await any_repo.claim_event(first.id or 0, milestone, T0, subject=75)
    assert await any_repo.claim_event(second.id or 0, milestone, T0, subject=50)
    assert await any_repo.claim_event(first.id or 0, EventKind.REMINDER_1H, T0)
    assert not await any_repo.claim_event(first.id or 0, EventKind.REMINDER_1H, T0)
    assert await any_repo.event_claimed(first.id or 0, milestone, 50)
    assert not await any_repo.event_claimed(first.id or 0, milestone, 25)
    assert not await any_repo.event_claimed(first.id or 0, milestone)  # no subject: another
    assert await any_repo.event_claimed(first.id or 0, EventKind.REMINDER_1H)
    assert not await any_repo.event_claimed(first.id or 0, EventKind.REPORT)
    assert await any_repo.count_events(first.id or 0, milestone) == 2
    assert await any_repo.count_events(second.id or 0, milestone) == 1
    assert await any_repo.count_events(999_999, milestone) == 0
    assert await any_repo.event_subjects(first.id or 0, milestone) == {50, 75}
    assert await any_repo.event_subjects(first.id or 0, EventKind.REMINDER_1H) == set()
    assert await any_repo.event_subjects(999_999, milestone) == set()


async def test_concurrent_claims_exactly_one_wins(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    claims = await asyncio.gather(
        *(any_repo.claim_event(stored.id or 0, EventKind.REPORT, T0) for _ in range(5))
    )
    assert sorted(claims) == [False, False, False, False, True]


async def test_consume_nonce_once(any_repo: Repository) -> None:
    assert not await any_repo.nonce_used("nonce-1")
    assert await any_repo.consume_nonce("nonce-1", T0)
    assert await any_repo.nonce_used("nonce-1")
    assert not await any_repo.nonce_used("nonce-2")
    assert not await any_repo.consume_nonce("nonce-1", T0 + timedelta(hours=1))
    assert await any_repo.consume_nonce("nonce-2", T0)


# dialogs ------------------------------------------------------------------------------


async def test_dialog_state(any_repo: Repository) -> None:
    assert await any_repo.load_dialog("telegram:1") is None
    state = {"step": "title", "values": {"goal": 0, "networks": ["x"]}, "ok": True}
    await any_repo.save_dialog("telegram:1", state)
    assert await any_repo.load_dialog("telegram:1") == state
    await any_repo.save_dialog("telegram:1", {"step": "goal"})
    assert await any_repo.load_dialog("telegram:1") == {"step": "goal"}
    assert await any_repo.load_dialog("discord:1") is None
    await any_repo.delete_dialog("telegram:1")
    assert await any_repo.load_dialog("telegram:1") is None
    await any_repo.delete_dialog("telegram:1")


# OAuth states -------------------------------------------------------------------------


async def test_oauth_state_is_taken_once(any_repo: Repository) -> None:
    data = {"verifier": "pkce-verifier-not-real", "instance": "mastodon.example"}
    await any_repo.save_oauth_state("s1", data, T0 + timedelta(minutes=10))
    assert await any_repo.take_oauth_state("s1", T0) == data
    assert await any_repo.take_oauth_state("s1", T0) is None
    assert await any_repo.take_oauth_state("unknown", T0) is None


async def test_oauth_state_expires(any_repo: Repository) -> None:
    await any_repo.save_oauth_state("old", {"v": 1}, T0 + timedelta(minutes=10))
    await any_repo.save_oauth_state("other", {"v": 2}, T0 + timedelta(minutes=10))
    await any_repo.save_oauth_state("late", {"v": 3}, T0 + timedelta(hours=1))
    later = T0 + timedelta(minutes=10)  # the expiry moment itself is too late
    assert await any_repo.take_oauth_state("old", later) is None
    assert await any_repo.take_oauth_state("other", later) is None  # refused, though kept
    assert await any_repo.take_oauth_state("late", later) == {"v": 3}


async def test_taking_a_state_leaves_the_purge_of_others_to_maintenance(
    any_repo: Repository,
) -> None:
    # one statement per callback: the expired states of others go with purge_expired
    await any_repo.save_oauth_state("expired", {"v": 1}, T0 + timedelta(minutes=10))
    await any_repo.save_oauth_state("taken", {"v": 2}, T0 + timedelta(hours=1))
    later = T0 + timedelta(minutes=10)
    assert await any_repo.take_oauth_state("taken", later) == {"v": 2}
    assert await any_repo.purge_expired(later) == 1  # "expired" was still there


# clean-up -----------------------------------------------------------------------------


async def test_purge_removes_only_what_expired(any_repo: Repository) -> None:
    await any_repo.save_oauth_state("gone", {"v": 1}, T0 + timedelta(minutes=10))
    await any_repo.save_oauth_state("kept", {"v": 2}, T0 + timedelta(minutes=20))
    assert await any_repo.consume_nonce("old-link", T0 + timedelta(minutes=10))
    assert await any_repo.consume_nonce("fresh-link", T0 + timedelta(days=1))

    assert await any_repo.purge_expired(T0 + timedelta(minutes=10)) == 2

    assert not await any_repo.nonce_used("old-link")
    assert await any_repo.nonce_used("fresh-link")  # its link still works: still refused
    assert await any_repo.take_oauth_state("kept", T0) == {"v": 2}
    assert await any_repo.purge_expired(T0 + timedelta(minutes=10)) == 0


# Mastodon apps ------------------------------------------------------------------------


async def test_mastodon_apps(any_repo: Repository) -> None:
    assert await any_repo.get_mastodon_app("mastodon.example") is None
    await any_repo.save_mastodon_app(
        "mastodon.example", "client-1", "secret-1-not-real", registered_at=T0
    )
    assert await any_repo.get_mastodon_app("mastodon.example") == (
        "client-1",
        "secret-1-not-real",
    )
    await any_repo.save_mastodon_app(
        "mastodon.example", "client-2", "secret-2-not-real", registered_at=T0
    )
    assert await any_repo.get_mastodon_app("mastodon.example") == (
        "client-2",
        "secret-2-not-real",
    )
    assert await any_repo.get_mastodon_app("other.example") is None


async def test_registrations_are_counted_from_their_time(any_repo: Repository) -> None:
    for minutes, instance in ((90, "old.example"), (59, "a.example"), (1, "b.example")):
        await any_repo.save_mastodon_app(
            instance, "c", "secret-not-real", registered_at=T0 - timedelta(minutes=minutes)
        )

    assert await any_repo.count_mastodon_registrations(T0 - timedelta(hours=1)) == 2
    assert await any_repo.count_mastodon_registrations(T0) == 0
    assert await any_repo.count_mastodon_registrations(T0 - timedelta(days=1)) == 3


# refusals -----------------------------------------------------------------------------


async def test_naive_datetimes_are_refused(any_repo: Repository) -> None:
    naive = T0.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive datetime"):
        await any_repo.add_campaign(campaign(launch_at=naive))
    with pytest.raises(ValueError, match="naive datetime"):
        await any_repo.consume_nonce("n", naive)
    assert await any_repo.campaigns_of(ORGANISER) == []


async def test_updates_of_unsaved_objects_are_refused(any_repo: Repository) -> None:
    with pytest.raises(ValueError, match="stored campaign"):
        await any_repo.update_campaign(campaign())
    campaign_id, (first,) = await _campaign_with_accounts(any_repo, count=1)
    with pytest.raises(ValueError, match="stored pledge"):
        await any_repo.update_pledge(pledge(campaign_id, first))


async def test_cancelled_calls_leave_the_repository_usable(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    for ticks in range(8):  # cancel at a different point of the transaction each time
        task = asyncio.ensure_future(
            any_repo.claim_event(stored.id or 0, EventKind.MILESTONE, T0, ticks)
        )
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert await any_repo.claim_event(stored.id or 0, EventKind.TAP_OPENED, T0, ticks)
    assert await any_repo.count_events(stored.id or 0, EventKind.TAP_OPENED) == 8


async def test_campaign_origin_choice_and_join_link_round_trip(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign(promote_origin=True))
    assert stored.promote_origin and stored.join_link is None
    linked = replace(stored, join_link=JoinLink("discord", "https://discord.gg/abc", invite=True))
    updated = await any_repo.update_campaign(linked)
    assert updated.join_link == JoinLink("discord", "https://discord.gg/abc", invite=True)
    card = replace(updated, promote_origin=False, join_link=JoinLink("test", "https://c/1"))
    again = await any_repo.update_campaign(card)
    assert await any_repo.get_campaign(again.id or 0) == again
    assert not again.promote_origin and again.join_link == JoinLink("test", "https://c/1")


async def test_post_links_are_the_first_posted_with_a_link(any_repo: Repository) -> None:
    stored = await any_repo.add_campaign(campaign())
    campaign_id = stored.id or 0
    people = [ALICE, BOB]
    pledges = []
    for n in range(4):
        saved = await any_repo.save_account(account(people[n % 2], f"l{n}", followers=n))
        pledges.append(await any_repo.add_pledge(pledge(campaign_id, saved)))
    _, second, third, fourth = pledges  # the first stays pledged
    await any_repo.update_pledge(
        replace(change_status(second, PledgeStatus.POSTED, at=T0), remote_post_url="https://m/2")
    )
    await any_repo.update_pledge(change_status(third, PledgeStatus.POSTED, at=T0))  # no link
    await any_repo.update_pledge(
        replace(change_status(fourth, PledgeStatus.POSTED, at=T0), remote_post_url="https://m/4")
    )
    assert await any_repo.post_links(campaign_id, 5) == ["https://m/2", "https://m/4"]
    assert await any_repo.post_links(campaign_id, 1) == ["https://m/2"]
    assert await any_repo.post_links(campaign_id + 1, 5) == []
