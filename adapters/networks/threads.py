"""A bounded thread pool for synchronous client libraries (tweepy).

Their calls block, so each runs on a worker thread, never on the event loop; the pool
is sized by BLAST_CONCURRENCY so the blast can keep that many posts in flight.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class BlockingCalls:
    """Runs blocking calls on a dedicated, bounded pool of threads."""

    def __init__(self, workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    def close(self) -> None:
        """Stop accepting work; calls already running finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
