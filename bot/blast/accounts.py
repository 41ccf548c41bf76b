"""The accounts of the pledges being delivered, resolved one batch at a time.

The preparation step loads (and decrypts) every account minutes before the launch and
reads their change markers first. At the launch each batch of pledges gets its accounts
just before it is marked SENDING: the prepared ones whose marker has not moved since
(one small query per batch), the others (re-linked, refreshed, revoked, new, or every
one after a restart that lost the preparation) loaded now; an erased account is simply
absent. So the first posts leave after one small query rather than a check of every
account, tokens are never older than their batch, and an account is forgotten once
handed out, so memory falls as the blast goes.

With the shared queue (PostgreSQL) the launch lends its source to the ``BlastWorker`` of
its own process (``lend``/``borrow``, keyed by the queue both hold), so the batches this
process claims use the accounts the preparation read and decrypted, after the same
marker check; another process's worker, or a batch claimed after the launch took its
source back, loads them.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.domain.account import SocialAccount
from bot.ports import Repository


@dataclass(slots=True)
class PreparedAccounts:
    """The accounts the preparation loaded, and their change markers read just before."""

    accounts: dict[int, SocialAccount]
    stamps: dict[int, str]


class AccountSource:
    """Hands out the current account of each pledge, once; takes ownership of ``prepared``."""

    def __init__(self, repo: Repository, prepared: PreparedAccounts | None = None) -> None:
        self._repo = repo
        self._prepared = prepared.accounts if prepared is not None else {}
        self._stamps = prepared.stamps if prepared is not None else {}
        self._fresh: dict[int, SocialAccount] = {}

    def keep(self, accounts: Mapping[int, SocialAccount]) -> None:
        """Accounts read (and possibly refreshed) during this launch: no check needed."""
        self._fresh.update(accounts)

    async def get(self, account_ids: Collection[int]) -> dict[int, SocialAccount]:
        """The accounts of ``account_ids`` as stored now; erased ones are left out."""
        found: dict[int, SocialAccount] = {}
        to_check: list[int] = []
        missing: list[int] = []
        for account_id in set(account_ids):
            fresh = self._fresh.pop(account_id, None)
            if fresh is not None:
                found[account_id] = fresh
            elif account_id in self._prepared:
                to_check.append(account_id)
            else:
                missing.append(account_id)
        if to_check:
            current = await self._repo.account_stamps(to_check)
            for account_id in to_check:
                account = self._prepared.pop(account_id)
                stamp = self._stamps.pop(account_id, None)
                if stamp is not None and current.get(account_id) == stamp:
                    found[account_id] = account
                else:
                    missing.append(account_id)
        if missing:
            found.update(await self._repo.get_accounts(missing))
        return found


_lent: weakref.WeakKeyDictionary[object, dict[int, AccountSource]] = weakref.WeakKeyDictionary()


def lend(queue: object, campaign_id: int, source: AccountSource) -> None:
    """The launch of ``campaign_id`` shares ``source`` with the workers on ``queue``."""
    _lent.setdefault(queue, {})[campaign_id] = source


def borrow(queue: object, campaign_id: int) -> AccountSource | None:
    """The source the launch lent for ``campaign_id`` in this process, if any."""
    lent = _lent.get(queue)
    return None if lent is None else lent.get(campaign_id)


def take_back(queue: object, campaign_id: int) -> None:
    """The launch is over: its accounts are let go (a late batch loads its own)."""
    lent = _lent.get(queue)
    if lent is not None:
        lent.pop(campaign_id, None)
