"""Lines typed at the console (or piped in), read without blocking the event loop.

A daemon thread does the blocking ``readline`` and hands each line to the loop; the
end of input (EOF, Ctrl-D) and a stop request (SIGINT, SIGTERM, /quit) arrive as
``None``. Works the same with a terminal and with a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TextIO


class LineReader:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="console-stdin", daemon=True).start()

    def stop(self) -> None:
        """End the input now (from the event loop's thread)."""
        self._queue.put_nowait(None)

    async def next_line(self) -> str | None:
        """The next line without its newline, or None at the end of input."""
        return await self._queue.get()

    def _pump(self) -> None:
        try:
            for line in iter(self._stream.readline, ""):
                self._hand_over(line.rstrip("\r\n"))
        except (OSError, ValueError):  # the stream was closed under us
            pass
        finally:
            self._hand_over(None)

    def _hand_over(self, line: str | None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody reads
            loop.call_soon_threadsafe(self._queue.put_nowait, line)
