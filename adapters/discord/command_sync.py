"""Syncs the slash commands with Discord only when they changed.

Discord rate-limits command updates hard, so the translated command payload is hashed
and the hash kept in the data folder; a start with the same commands skips the sync.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

from discord import app_commands

log = logging.getLogger(__name__)

HASH_FILE = "discord-commands.sha256"


async def command_payload(tree: app_commands.CommandTree) -> list[dict]:
    translator = tree.translator
    commands = tree.get_commands()
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


async def sync_if_changed(
    tree: app_commands.CommandTree, application_id: int | None, data_dir: Path
) -> bool:
    """Sync the global commands if their payload differs from the last sync; True if done."""
    payload = await command_payload(tree)
    digest = hashlib.sha256(
        json.dumps({"app": application_id, "commands": payload}, sort_keys=True).encode()
    ).hexdigest()
    path = data_dir / HASH_FILE
    previous = await asyncio.to_thread(_read, path)
    if previous == digest:
        log.info("Discord commands unchanged; not syncing")
        return False
    await tree.sync()
    await asyncio.to_thread(_write, path, digest)
    log.info("Discord commands synced (%s commands)", len(payload))
    return True


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def _write(path: Path, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(digest + "\n", encoding="utf-8")
