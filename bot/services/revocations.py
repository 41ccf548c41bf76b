"""Token lifetime: a supporter's tokens live only as long as a pledge needs them.

When nothing needs an account's tokens any more (after an unpledge, after the final
report of its last campaign) or the supporter asks to be forgotten, the tokens are
erased from the account and queued (still encrypted) in one transaction, then revoked
at their network. A revocation that fails (network down, adapter not configured) stays
queued: ``retry_pending`` tries again, and /forget tells the person which accounts could
not be revoked yet and where to do it by hand. This service is the only place that does
any of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.domain.account import PendingRevocation, SocialAccount
from bot.domain.networks import Network
from bot.domain.refs import UserRef
from bot.ports import Clock, NetworkFailure, Repository
from bot.registry import NetworkRegistry

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=15)
CONCURRENCY = 10
BATCH = 500
_ERASED_OWNER = UserRef("chorus", "erased", "")


@dataclass(frozen=True)
class Unrevoked:
    """An account whose tokens Chorus could not revoke yet (it keeps trying)."""

    network: Network
    account: str  # as shown to its owner, e.g. @bob@mastodon.social
    revoke_at: str  # where the owner can revoke Chorus's access by hand


@dataclass
class Revocations:
    """Releases tokens nothing needs, revokes them, and retries what failed."""

    repo: Repository
    clock: Clock
    registry: NetworkRegistry  # every registered network revokes, offered or not
    retry_after: timedelta = RETRY_AFTER
    concurrency: int = CONCURRENCY
    batch: int = BATCH
    _retrying: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def release_unused(self, account_ids: Iterable[int]) -> int:
        """After an unpledge: erase and revoke now the tokens of those of ``account_ids``
        that no pledge still needs; return how many were released."""
        queued = await self.repo.release_tokens(set(account_ids), self.clock.now())
        await self._attempt(await self.repo.pending_revocations(queued), {})
        return len(queued)

    async def queue_unused(self, account_ids: Iterable[int]) -> int:
        """After a campaign's end (thousands of accounts): erase now the tokens nothing
        needs and leave the revocations to ``retry_pending`` (a maintenance job); return
        how many."""
        queued = await self.repo.release_tokens(set(account_ids), self.clock.now())
        if queued:
            log.info("released the tokens of %s accounts; revocation queued", len(queued))
        return len(queued)

    async def revoke_unstored(self, account: SocialAccount) -> bool:
        """Tokens fetched for a pledge that was refused and never stored: queue them and
        revoke them now; True when the network confirmed (else they wait for a retry)."""
        queued = await self.repo.queue_revocation(
            account.network, account.instance, account.tokens, self.clock.now()
        )
        pending = await self.repo.pending_revocations([queued])
        return not await self._attempt(pending, {None: account})

    async def release_all(self, accounts: Collection[SocialAccount]) -> list[Unrevoked]:
        """Erase and revoke the tokens of ``accounts`` whatever needs them (/forget);
        return those whose revocation has not gone through yet."""
        by_id = {account.id: account for account in accounts if account.id is not None}
        queued = await self.repo.release_tokens(list(by_id), self.clock.now(), unless_in_use=False)
        failed = await self._attempt(await self.repo.pending_revocations(queued), by_id)
        return [
            Unrevoked(
                pending.network,
                self._display(by_id.get(pending.account_id)),
                self.registry.revoke_page(pending.network, pending.instance),
            )
            for pending in failed
        ]

    def _display(self, account: SocialAccount | None) -> str:
        return "?" if account is None else self.registry.display(account)

    async def retry_pending(self) -> int:
        """Try every queued revocation never tried or last tried ``retry_after`` ago or
        more, batch by batch; return how many went through. One pass runs at a time."""
        async with self._retrying:
            done = failed = 0
            tried: set[int] = set()
            while True:
                before = self.clock.now() - self.retry_after
                due = await self.repo.due_revocations(before, self.batch)
                due = [p for p in due if p.id not in tried]  # once per pass
                if not due:
                    break
                tried.update(p.id for p in due)
                missed = await self._attempt(due, {})
                done, failed = done + len(due) - len(missed), failed + len(missed)
            if done or failed:
                log.info("pending revocations: %s done, %s to retry later", done, failed)
            return done

    async def _attempt(
        self, queued: list[PendingRevocation], accounts: Mapping[int | None, SocialAccount]
    ) -> list[PendingRevocation]:
        """Revoke each of ``queued`` at its network; return the ones that failed (kept)."""
        if not queued:
            return []
        limit = asyncio.Semaphore(self.concurrency)
        errors: dict[int, str | None] = {}

        async def one(pending: PendingRevocation) -> None:
            async with limit:
                errors[pending.id] = await self._revoke(pending, accounts.get(pending.account_id))

        async with asyncio.TaskGroup() as group:
            for pending in queued:
                group.create_task(one(pending))
        await self.repo.revocations_done([i for i, error in errors.items() if error is None])
        failed = [p for p in queued if errors[p.id] is not None]
        by_error: dict[str, list[int]] = {}
        for pending in failed:
            by_error.setdefault(errors[pending.id] or "", []).append(pending.id)
        now = self.clock.now()
        for reason, ids in by_error.items():
            log.warning("%s revocations failed (%s); they will be retried", len(ids), reason)
            await self.repo.revocations_failed(ids, now, reason)
        return failed

    async def _revoke(
        self, pending: PendingRevocation, account: SocialAccount | None
    ) -> str | None:
        """None when the network confirmed, else why not."""
        revoker = self.registry.revokers().get(pending.network)
        if revoker is None:
            return "no adapter configured"
        subject = (
            SocialAccount(
                owner=_ERASED_OWNER,
                network=pending.network,
                instance=pending.instance,
                remote_id="",
                handle="",
                followers=0,
                tokens=pending.tokens,
                linked_at=pending.queued_at,
                id=pending.account_id,
            )
            if account is None
            else replace(account, tokens=pending.tokens)
        )
        try:
            await revoker.revoke(subject)
        except NetworkFailure as failure:
            return failure.outcome.reason or failure.outcome.kind.value
        except Exception as exc:  # an adapter bug must not lose the queued tokens
            log.debug("revocation raised", exc_info=True)
            return type(exc).__name__
        return None
