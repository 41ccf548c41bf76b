"""Checks and normalises a campaign picture an organiser sent, before anything keeps it.

The bytes come from a stranger: only JPEG, PNG and WebP are decoded (Pillow is told which
decoders it may use), the size is bounded before decoding and the pixel count before the
pixels are read, so a small file claiming a huge canvas (a pixel bomb) is refused. What is
kept is a fresh encoding of the decoded pixels, turned upright, at most ``MAX_SIDE`` on its
longer side and without any metadata (EXIF GPS positions included): a PNG when the picture
has transparency, otherwise a JPEG. CPU-bound: callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.domain.errors import InvalidInput

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000  # about 8000 × 5000: a camera photo, not a bomb
MAX_SIDE = 1600
JPEG_QUALITY = 85
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Picture:
    """A normalised picture: its encoded bytes and their type."""

    data: bytes
    extension: str  # "jpg" or "png"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]

    @property
    def key(self) -> str:
        """Its name by content: the same picture sent twice is kept once."""
        return f"{hashlib.sha256(self.data).hexdigest()}.{self.extension}"


def normalise_picture(data: bytes, max_bytes: int) -> Picture:
    """The picture ``data`` holds, checked and re-encoded; ``InvalidInput`` says what is wrong."""
    if not data:
        raise InvalidInput("picture.empty")
    if len(data) > max_bytes:
        raise InvalidInput("picture.too_big", max_mb=_megabytes(max_bytes))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise _too_many_pixels()
                opened.seek(0)  # an animation: its first frame
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise InvalidInput("picture.bad_type") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidInput("picture.unreadable") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    out = BytesIO()
    if transparent:
        clean = image.convert("RGBA")
        clean.save(out, format="PNG", optimize=True)
        return Picture(out.getvalue(), "png")
    clean = image.convert("RGB")
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return Picture(out.getvalue(), "jpg")


def _too_many_pixels() -> InvalidInput:
    return InvalidInput("picture.too_many_pixels", max_megapixels=MAX_PIXELS // 1_000_000)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
