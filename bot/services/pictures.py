"""Takes a campaign picture from an organiser: checks it, normalises it and keeps it.

The checks and the re-encoding (``bot.pictures``) run in a worker thread, the store does
its own file work off the loop; what comes back is the key the campaign keeps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.domain.errors import InvalidInput
from bot.pictures import CONTENT_TYPES, normalise_picture
from bot.ports import PictureStore


@dataclass(frozen=True)
class StoredPicture:
    key: str  # names the content: a fine ETag
    data: bytes
    content_type: str


@dataclass
class PictureService:
    store: PictureStore
    max_bytes: int

    def check_size(self, size: int | None) -> None:
        """Refuse a picture the platform says is too big, before fetching it."""
        if size is not None and size > self.max_bytes:
            raise InvalidInput("picture.too_big", max_mb=f"{self.max_bytes / (1024 * 1024):g}")

    async def accept(self, data: bytes) -> str:
        """Check and keep the picture ``data`` holds; its key. ``InvalidInput`` if refused."""
        picture = await asyncio.to_thread(normalise_picture, data, self.max_bytes)
        await self.store.put(picture.key, picture.data)
        return picture.key

    async def load(self, key: str | None) -> StoredPicture | None:
        """The kept picture under ``key``; None if there is none."""
        if not key:
            return None
        data = await self.store.get(key)
        if data is None:
            return None
        extension = key.rsplit(".", 1)[-1]
        content_type = CONTENT_TYPES.get(extension)
        return StoredPicture(key, data, content_type) if content_type else None


class MemoryPictureStore:
    """Pictures kept in memory: for a Chorus built without a place on disk (tests)."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        self.kept.setdefault(key, data)

    async def get(self, key: str) -> bytes | None:
        return self.kept.get(key)
