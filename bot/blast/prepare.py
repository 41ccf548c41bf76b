"""The preparation step before a launch: load the pledges and their accounts in bulk,
refresh tokens that would expire before the blast is over, fail pledges whose account
was revoked, and queue the rest.

It runs PREPARE_MINUTES_BEFORE the launch and again at the launch itself for pledges
that arrived in between, so the launch moment has little left to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain.account import SocialAccount
from bot.domain.campaign import Campaign
from bot.domain.networks import DeliveryMode, Network
from bot.domain.outcomes import OutcomeKind
from bot.domain.pledge import DeliveryHead, DeliveryState, Pledge, PledgeStatus, change_status
from bot.ports import NetworkFailure, Repository, SocialNetwork
from bot.settings import Settings

log = logging.getLogger(__name__)

REASON_REVOKED = OutcomeKind.REVOKED.value
REASON_UNAVAILABLE = "unavailable"


T = TypeVar("T")


def chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def load_accounts(
    repo: Repository, account_ids: Collection[int], batch: int
) -> dict[int, SocialAccount]:
    """Every account in ``account_ids`` that still exists, a few queries in all."""
    accounts: dict[int, SocialAccount] = {}
    for part in chunks(sorted(set(account_ids)), batch):
        accounts.update(await repo.get_accounts(part))
    return accounts


async def load_stamps(
    repo: Repository, account_ids: Collection[int], batch: int
) -> dict[int, str]:
    """The change marker of every account in ``account_ids`` that still exists."""
    stamps: dict[int, str] = {}
    for part in chunks(sorted(set(account_ids)), batch):
        stamps.update(await repo.account_stamps(part))
    return stamps


def mode_of(pledge: Pledge | DeliveryHead, modes: Mapping[Network, DeliveryMode]) -> DeliveryMode:
    """The pledge's own mode, else its network's (auto for a network not registered)."""
    return pledge.delivery_mode or modes.get(pledge.network, DeliveryMode.AUTO)


def tokens_needed_until(campaign: Campaign, settings: Settings, has_tap: bool) -> datetime:
    """Tokens must stay valid through the retry window (and the tap read-back)."""
    window = timedelta(seconds=settings.blast_retry_window_seconds)
    if has_tap:
        window = max(window, timedelta(minutes=settings.tap_readback_minutes))
    return campaign.launch_at + window


async def prepare(
    *,
    repo: Repository,
    networks: Mapping[Network, SocialNetwork],
    modes: Mapping[Network, DeliveryMode],
    settings: Settings,
    campaign: Campaign,
    pledges: list[Pledge],
    accounts: dict[int, SocialAccount],
    now: datetime,
    batch: int,
    refresh_concurrency: int,
) -> set[int]:
    """Queue every WAITING pledge in ``pledges`` that can be delivered; return their ids.

    ``accounts`` must hold the pledges' accounts (an account missing from it was erased);
    refreshed tokens (stored by the network adapter, see ``SocialNetwork.refresh``) and
    revocations found here are written into it. Pledges that cannot
    be delivered are marked FAILED now.
    """
    waiting = [
        (p, accounts[p.account_id])
        for p in pledges
        if p.status is PledgeStatus.PLEDGED
        and p.delivery is DeliveryState.WAITING
        and p.account_id in accounts  # else erased by its owner since the pledge was loaded
    ]
    if not waiting:
        return set()
    has_tap = any(mode_of(p, modes) is DeliveryMode.TAP for p, _ in waiting)
    horizon = tokens_needed_until(campaign, settings, has_tap)
    await _refresh_tokens(
        repo, networks, [a for _, a in waiting], accounts, horizon, refresh_concurrency
    )
    failed: list[Pledge] = []
    ready: list[int] = []
    for pledge, _ in waiting:
        assert pledge.id is not None
        if accounts[pledge.account_id].revoked:
            failed.append(
                change_status(pledge, PledgeStatus.FAILED, at=now, reason=REASON_REVOKED)
            )
        elif pledge.network not in networks:
            failed.append(
                change_status(pledge, PledgeStatus.FAILED, at=now, reason=REASON_UNAVAILABLE)
            )
        else:
            ready.append(pledge.id)
    for part in chunks(failed, batch):
        await repo.record_deliveries(part)
    queued: set[int] = set()
    for part in chunks(ready, batch):
        queued.update(
            await repo.set_delivery(part, DeliveryState.QUEUED, expected=DeliveryState.WAITING)
        )
    log.info("campaign %s prepared: %s queued, %s failed", campaign.ref, len(queued), len(failed))
    return queued


async def _refresh_tokens(
    repo: Repository,
    networks: Mapping[Network, SocialNetwork],
    candidates: list[SocialAccount],
    accounts: dict[int, SocialAccount],
    horizon: datetime,
    concurrency: int,
) -> None:
    due = {
        a.id: a
        for a in candidates
        if a.id is not None
        and not a.revoked
        and a.tokens.expires_before(horizon)
        and a.network in networks
    }
    if not due:
        return
    limit = asyncio.Semaphore(concurrency)

    async def refresh(account: SocialAccount) -> None:
        assert account.id is not None
        network: SocialNetwork = networks[account.network]
        async with limit:
            try:
                tokens = await network.refresh(account)
            except NetworkFailure as failure:
                if failure.outcome.kind is OutcomeKind.REVOKED:
                    await repo.mark_account_revoked(account.id)
                    accounts[account.id] = replace(account, revoked=True)
                else:  # the post itself will tell; the token may still work
                    log.warning(
                        "refreshing account %s failed: %s", account.id, failure.outcome.kind
                    )
                return
            except Exception:
                log.exception("refreshing account %s failed", account.id)
                return
        accounts[account.id] = replace(account, tokens=tokens)  # the adapter stored them

    await asyncio.gather(*(refresh(a) for a in due.values()))
