"""Campaign pictures as files under DATA_DIR/pictures, each named by its content hash.

Only keys shaped as the core makes them (64 hex digits, a dot, ``jpg`` or ``png``) are
ever turned into a path, so a key read back from anywhere cannot leave the directory. A
file is written beside its final name and renamed into place, so a reader never sees half
of one. The file system is used from a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path

KEY_RE = re.compile(r"[0-9a-f]{64}\.(?:jpg|png)")


class FilePictureStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path | None:
        return self.root / key if KEY_RE.fullmatch(key) else None

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path is None:
            raise ValueError("not a picture key")
        await asyncio.to_thread(self._write, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        return await asyncio.to_thread(self._read, path)

    def _write(self, path: Path, data: bytes) -> None:
        if path.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
