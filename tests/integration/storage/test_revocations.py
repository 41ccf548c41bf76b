"""Releasing tokens: erased from the account and queued for revocation in one transaction,
unless a pledge still needs them; the queue keeps only what revoking needs."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.x import X
from bot.domain.account import PendingRevocation
from bot.domain.campaign import CampaignStatus
from bot.domain.events import EventKind
from bot.domain.pledge import PledgeStatus, change_status
from bot.ports import Repository
from tests.integration.storage.builders import ALICE, BOB, T0, account, campaign, pledge, tokens

LATER = T0 + timedelta(days=1)


async def _campaign(repo: Repository, ref: str, status: CampaignStatus) -> int:
    stored = await repo.add_campaign(campaign(ref, status=status))
    assert stored.id is not None
    return stored.id


async def _released(repo: Repository, ids: list[int], **options: bool) -> list[PendingRevocation]:
    return await repo.pending_revocations(await repo.release_tokens(ids, T0, **options))


async def test_tokens_in_use_stay_and_unused_ones_are_erased_and_queued(
    any_repo: Repository,
) -> None:
    live = await _campaign(any_repo, "LIVE01", CampaignStatus.LIVE)
    launched = await _campaign(any_repo, "LNCH01", CampaignStatus.LAUNCHED)
    failed = await _campaign(any_repo, "FAIL01", CampaignStatus.FAILED)
    a1, a2, a3, a4, a5 = await any_repo.save_accounts(
        [
            account(ALICE, "r1"),
            account(ALICE, "r2", network=X),
            account(BOB, "r3"),
            account(BOB, "r4"),
            account(BOB, "r5"),
        ]
    )
    await any_repo.add_pledge(pledge(live, a1))  # pledged, live: needed
    withdrawn = await any_repo.add_pledge(pledge(live, a2))
    await any_repo.update_pledge(change_status(withdrawn, PledgeStatus.WITHDRAWN, at=T0))
    await any_repo.add_pledge(pledge(launched, a3))  # tap offered, not reported: needed
    await any_repo.add_pledge(pledge(launched, a4))
    await any_repo.add_pledge(pledge(failed, a5))  # goal missed: not needed
    ids = [a.id or 0 for a in (a1, a2, a3, a4, a5)]

    queued = await _released(any_repo, ids)
    assert [q.account_id for q in queued] == [a2.id, a5.id]
    x = queued[0]
    assert x.network == X and x.instance == "x.com"
    assert (x.tokens.access_token, x.tokens.refresh_token) == (
        tokens("r2").access_token,
        tokens("r2").refresh_token,
    )
    assert x.queued_at == T0 and x.attempts == 0 and x.last_attempt_at is None
    erased = await any_repo.get_account(a2.id or 0)
    assert erased is not None
    assert (erased.tokens.access_token, erased.tokens.refresh_token) == ("", None)
    kept = await any_repo.get_account(a1.id or 0)
    assert kept is not None and kept.tokens == a1.tokens

    # the launched campaign is reported: its accounts go; erased ones are not queued twice
    assert await any_repo.claim_event(launched, EventKind.REPORT, T0)
    assert [q.account_id for q in await _released(any_repo, ids)] == [a3.id, a4.id]
    # /forget releases even what is in use
    assert [q.account_id for q in await _released(any_repo, ids, unless_in_use=False)] == [a1.id]
    assert len(await any_repo.due_revocations(LATER, 100)) == 5
    assert len(await any_repo.due_revocations(LATER, 2)) == 2
    # relinking brings tokens back
    relinked = await any_repo.save_account(account(ALICE, "r2", network=X))
    assert relinked.tokens.access_token == tokens("r2").access_token


async def test_attempts_are_counted_and_done_ones_leave_no_trace(any_repo: Repository) -> None:
    saved = await any_repo.save_account(account(ALICE, "r1"))
    [queued] = await any_repo.release_tokens([saved.id or 0], T0)
    tried = T0 + timedelta(minutes=5)
    await any_repo.revocations_failed([queued], tried, "server error 503")
    [failed] = await any_repo.pending_revocations([queued])
    assert (failed.attempts, failed.last_error, failed.last_attempt_at) == (
        1,
        "server error 503",
        tried,
    )
    assert await any_repo.due_revocations(tried - timedelta(seconds=1), 10) == []
    assert [p.id for p in await any_repo.due_revocations(tried, 10)] == [queued]
    assert await any_repo.erase_supporter(ALICE) == 1
    assert [p.id for p in await any_repo.due_revocations(LATER, 10)] == [queued]  # survives
    await any_repo.revocations_done([queued])
    assert await any_repo.due_revocations(LATER, 10) == []
    assert await any_repo.release_tokens([], T0) == []
