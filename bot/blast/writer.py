"""Writes the blast's results in batches, so database writes never dominate the blast.

Results are handed over one at a time by the senders and stored with one
``record_deliveries`` call per few hundred results or every fraction of a second,
whichever comes first. Revoked accounts are marked in the same rhythm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.domain.pledge import Pledge
from bot.ports import Repository

log = logging.getLogger(__name__)


class DeliveryWriter:
    """A single background task that flushes results; ``close`` flushes the rest."""

    def __init__(
        self,
        repo: Repository,
        *,
        flush_every: int,
        flush_seconds: float,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        """``on_written``: called after each batch is stored (the cards' live tally)."""
        self._repo = repo
        self._on_written = on_written
        self._flush_every = flush_every
        self._flush_seconds = flush_seconds
        self._pending: list[Pledge] = []
        self._revoked: set[int] = set()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    async def __aenter__(self) -> DeliveryWriter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def add(self, pledge: Pledge) -> None:
        self._pending.append(pledge)
        if len(self._pending) >= self._flush_every:
            self._wake.set()

    def account_revoked(self, account_id: int) -> None:
        self._revoked.add(account_id)

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_seconds)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep the results and try again on the next beat
                log.exception("writing blast results failed; retrying")

    async def flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._flush_every]
            await self._repo.record_deliveries(batch)
            del self._pending[: len(batch)]
            self.written += len(batch)
            if self._on_written is not None:
                self._on_written()
        while self._revoked:
            account_id = self._revoked.pop()
            try:
                await self._repo.mark_account_revoked(account_id)
            except Exception:
                self._revoked.add(account_id)
                raise
