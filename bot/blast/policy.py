"""How the blast retries: backoff for a network that is down, the retry window, and
the tuning of the sending pipeline (each network declares its crash recovery in its spec).

Kept apart from the sending loop so the rules can be read (and tuned in tests) in one
place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff with jitter for transient failures, bounded by the retry window."""

    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    jitter: float = 0.5  # the delay is drawn from [(1 - jitter) * d, d]

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        delay = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        draw = (rng or random).random()
        return delay * (1 - self.jitter * draw)


@dataclass(frozen=True)
class BlastTuning:
    """Knobs of the sending pipeline; the defaults meet the benchmark targets."""

    mark_batch: int = 500  # pledges moved QUEUED → SENDING per database write
    flush_every: int = 500  # results written per record_deliveries call at most
    flush_seconds: float = 0.2  # ... or this often, whichever comes first
    account_batch: int = 2000  # account ids per get_accounts call
    tap_concurrency: int = 100  # private messages in flight (front ends rate limit)
    read_concurrency: int = 20  # read-back requests in flight per network
    refresh_concurrency: int = 20  # token refreshes in flight during preparation
    retry: RetryPolicy = RetryPolicy()
    # the shared blast (several processes): a batch's lease, renewed while it posts, and
    # how often an idle worker looks for batches without a notification
    lease_seconds: float = 30.0
    poll_seconds: float = 2.0
    # a launch run stopped by an error (the database, say) is run again this many times
    launch_retries: int = 5
    launch_retry: RetryPolicy = RetryPolicy(base_seconds=2.0, cap_seconds=30.0)
