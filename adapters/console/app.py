"""``chorus console``: the whole of Chorus in one terminal, with no token anywhere.

SQLite under DATA_DIR, a secret generated once, the sandbox network, the console front
end, the launch scheduler, and a clock ``/wait`` and ``/launch`` can fast-forward.
Input ends with /quit, Ctrl-D, end of a piped script, SIGINT or SIGTERM; pending work
(a blast under way, card updates) finishes first, then everything closes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import TextIO

from adapters.console.clock import ShiftableClock
from adapters.console.front_end import ConsoleFrontEnd
from adapters.console.lines import LineReader
from adapters.console.session import ConsoleSession
from bot.domain.text import t
from bot.runtime import console_secret, open_storage, wire_console
from bot.settings import Settings

log = logging.getLogger(__name__)

DATABASE_FILE = "console.sqlite3"


def console_database_url(settings: Settings) -> str:
    """The console's own SQLite file, kept apart from a real deployment's database."""
    return f"sqlite:///{Path(settings.data_dir) / DATABASE_FILE}"


async def run_console(
    settings: Settings,
    *,
    language: str,
    persona_name: str,
    stdin: TextIO,
    stdout: TextIO,
    interactive: bool,
) -> int:
    """Run the console until its input ends; 0 when it closed cleanly."""
    secret = await asyncio.to_thread(console_secret, settings)  # creates DATA_DIR too
    repo = await open_storage(console_database_url(settings), secret)
    try:
        await repo.migrate()
        parts = wire_console(
            settings,
            repo,
            ShiftableClock(),
            stdout,
            language=language,
            secret=secret,
            persona_name=persona_name,
        )
        session, front, scheduler = parts.session, parts.front, parts.scheduler
        await scheduler.start()
        try:
            front.say(t("console.welcome", persona=session.user.name, data_dir=settings.data_dir))
            await _read_eval_print(session, front, stdin, interactive=interactive)
            front.say(t("console.finishing"))
            await session.finish()
        finally:
            await scheduler.stop()
    finally:
        await repo.close()
    front.say(t("console.bye", data_dir=settings.data_dir))
    return 0


async def _read_eval_print(
    session: ConsoleSession, front: ConsoleFrontEnd, stdin: TextIO, *, interactive: bool
) -> None:
    reader = LineReader(stdin)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, reader.stop)
    reader.start()
    try:
        while True:
            if interactive:
                front.write_raw(session.prompt)
            line = await reader.next_line()
            if line is None:
                if interactive:
                    front.write("")
                return
            if not interactive and line.strip():
                front.write(f"{session.prompt}{line}")  # a transcript shows what was typed
            if not await session.handle(line):
                return
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
