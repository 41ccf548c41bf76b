"""A campaign picture is checked and re-encoded before it is kept: accepted types only,
bounded bytes and pixels, no metadata left, bounded dimensions; and kept by content."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from bot.domain.errors import InvalidInput
from bot.pictures import MAX_SIDE, normalise_picture
from storage.pictures import FilePictureStore

MIB = 1024 * 1024


def encoded(size: tuple[int, int], fmt: str, mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    colour = (10, 200, 30, 128) if mode == "RGBA" else (10, 200, 30)
    Image.new(mode, size, colour).save(out, format=fmt, **options)
    return out.getvalue()


def with_gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    return encoded((64, 48), "JPEG", exif=exif.tobytes())


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (its pixel data is never read)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_accepted_type_becomes_a_clean_jpeg(fmt: str) -> None:
    picture = normalise_picture(encoded((120, 80), fmt), 5 * MIB)
    assert (picture.extension, picture.content_type) == ("jpg", "image/jpeg")
    with Image.open(io.BytesIO(picture.data)) as image:
        assert (image.format, image.size) == ("JPEG", (120, 80))


def test_transparency_is_kept_as_png() -> None:
    picture = normalise_picture(encoded((50, 50), "PNG", mode="RGBA"), 5 * MIB)
    assert picture.content_type == "image/png"
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.mode == "RGBA"


def test_exif_and_its_gps_position_are_stripped() -> None:
    original = with_gps_exif()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif()  # the test picture does carry them
    picture = normalise_picture(original, 5 * MIB)
    with Image.open(io.BytesIO(picture.data)) as image:
        assert not image.getexif()
        assert "exif" not in image.info
    assert b"SpyCam" not in picture.data


def test_a_large_picture_is_scaled_down_keeping_its_shape() -> None:
    picture = normalise_picture(encoded((4000, 1000), "JPEG"), 5 * MIB)
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.size == (MAX_SIDE, MAX_SIDE // 4)


def test_the_same_picture_has_the_same_key() -> None:
    data = encoded((30, 30), "PNG")
    first, second = normalise_picture(data, MIB), normalise_picture(data, MIB)
    assert first.key == second.key and first.key.endswith(".jpg") and len(first.key) == 68


@pytest.mark.parametrize(
    ("data", "limit", "key"),
    [
        (b"", MIB, "picture.empty"),
        (b"x" * 2048, 1024, "picture.too_big"),
        (encoded((30, 30), "GIF"), MIB, "picture.bad_type"),
        (encoded((30, 30), "BMP"), MIB, "picture.bad_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", MIB, "picture.bad_type"),
        (png_bomb(50_000, 50_000), MIB, "picture.too_many_pixels"),
        (png_bomb(10_000, 5_000), MIB, "picture.too_many_pixels"),
        (encoded((300, 300), "JPEG")[:300], MIB, "picture.unreadable"),
    ],
)
def test_a_bad_picture_is_refused_with_its_reason(data: bytes, limit: int, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_picture(data, limit)
    assert refused.value.text.key == key


async def test_the_file_store_keeps_by_key_and_never_leaves_its_directory(
    tmp_path: Path,
) -> None:
    store = FilePictureStore(tmp_path / "pictures")
    picture = normalise_picture(encoded((20, 20), "JPEG"), MIB)
    await store.put(picture.key, picture.data)
    await store.put(picture.key, b"other bytes")  # same key: kept once, unchanged
    assert await store.get(picture.key) == picture.data
    assert [p.name for p in (tmp_path / "pictures").iterdir()] == [picture.key]
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    for key in ("../secret.jpg", "/etc/passwd", "a" * 64 + ".gif", "", "A" * 64 + ".jpg"):
        assert await store.get(key) is None
    assert await store.get("0" * 64 + ".jpg") is None
    with pytest.raises(ValueError):
        await store.put("../escape.jpg", b"x")
