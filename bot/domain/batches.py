"""A batch of a shared blast: the auto pledges one process posts under a lease.

At the launch the pledges to post are split into batches that any live process claims;
a batch claimed more than once was left by a process that stopped (its lease ran out),
so its pledges caught mid-request are reconciled before anything is posted again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BlastBatch:
    id: int
    campaign_id: int
    number: int
    pledge_ids: tuple[int, ...]
    claims: int = 1  # how many times it was claimed, this claim included

    @property
    def reclaimed(self) -> bool:
        """Claimed before by a process whose lease ran out."""
        return self.claims > 1
