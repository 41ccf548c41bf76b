"""The link-preview picture (Open Graph / Twitter card): a 1200×630 PNG drawn with Pillow.

Chat apps and social sites unfurl a campaign link with this image: the title, a progress
bar, the figures and the launch moment. It uses DejaVu Sans, shipped with the package
(``fonts/``), so it looks the same on every host and keeps French accents. Drawing takes
a few milliseconds of CPU, so it runs in a worker thread, and the result is kept in a
small LRU keyed by what is drawn: a new supporter changes the key and the next request
draws a fresh picture.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import unicodedata
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
BACKGROUND = (20, 18, 25)
CARD = (31, 28, 39)
INK = (242, 240, 247)
MUTED = (196, 191, 208)
ACCENT = (167, 147, 255)
TRACK = (58, 53, 70)
TITLE_SIZE, TITLE_LINES = 64, 3
CACHE_SIZE = 256
PICTURE_BOX = (780, 124, WIDTH - MARGIN, 372)  # beside the title, above the bar
SPELLED = {"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "–": "-", "—": "-", "€": "EUR"}


@dataclass(frozen=True)
class PreviewCard:
    """What the picture says, already in the reader's language."""

    site_name: str
    title: str
    figures: str
    launch: str
    percent: int | None  # 0..100, the bar's fill; None when there is no minimum (bar full)
    picture: bytes | None = None  # the campaign's own picture (already normalised), if any


@dataclass(frozen=True)
class Picture:
    png: bytes
    etag: str


FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"  # shipped: accents, no system font


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(FONT), size=size)


@cache
def _drawable(char: str) -> bool:
    """Whether the font has a glyph for ``char``."""
    if char.isspace() or char.isascii():
        return True
    return _glyph(char) != _glyph("\uffff")  # U+FFFF is never drawn: the "missing" box


def _glyph(char: str) -> bytes:
    image = Image.new("L", (40, 40))
    ImageDraw.Draw(image).text((4, 4), char, font=_font(20), fill=255)
    return image.tobytes()


def drawable(text: str) -> str:
    """``text`` with the letters the font lacks replaced by their base letter (é → e), and
    what has no base letter (emoji, other scripts) dropped, instead of drawing empty boxes."""
    out = []
    for char in text:
        if _drawable(char):
            out.append(char)
            continue
        spelled = SPELLED.get(char) or unicodedata.normalize("NFKD", char)
        base = "".join(c for c in spelled if _drawable(c))
        base = "".join(c for c in base if not unicodedata.combining(c))
        out.append(base)
    return " ".join("".join(out).split())


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: object, width: int, lines: int) -> list[str]:
    """Words on at most ``lines`` lines of ``width`` pixels; the last one ends in … if cut."""
    fits = lambda s: draw.textlength(s, font=font) <= width  # noqa: E731
    out: list[str] = []
    current = ""
    for word in " ".join(text.split()).split(" "):
        candidate = f"{current} {word}".strip()
        if fits(candidate):
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        while not fits(current):  # a word longer than the line: cut it where it overflows
            cut = len(current) - 1
            while cut > 1 and not fits(current[:cut]):
                cut -= 1
            out.append(current[:cut])
            current = current[cut:]
    if current:
        out.append(current)
    if len(out) <= lines:
        return out
    last = out[lines - 1]
    while last and not fits(last.rstrip() + "…"):
        last = last[:-1]
    return [*out[: lines - 1], last.rstrip() + "…"]


def render_preview(card: PreviewCard) -> bytes:
    """The PNG bytes of ``card``'s picture (blocking: call it through ``PreviewCache``)."""
    card = PreviewCard(
        drawable(card.site_name),
        drawable(card.title),
        drawable(card.figures),
        drawable(card.launch),
        card.percent,
        card.picture,
    )
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rounded_rectangle(
        (MARGIN // 2, MARGIN // 2, WIDTH - MARGIN // 2, HEIGHT - MARGIN // 2), 28, fill=CARD
    )
    draw.ellipse((MARGIN, 66, MARGIN + 28, 94), outline=ACCENT, width=5)
    draw.text((MARGIN + 44, 80), card.site_name, font=_font(34), fill=ACCENT, anchor="lm")

    title_font = _font(TITLE_SIZE)
    title_width = inner
    if card.picture and _paste_picture(image, card.picture):
        title_width = PICTURE_BOX[0] - MARGIN - 32
    y = 140
    for line in _wrap(draw, card.title, title_font, title_width, TITLE_LINES):
        draw.text((MARGIN, y), line, font=title_font, fill=INK, stroke_width=1, stroke_fill=INK)
        y += int(TITLE_SIZE * 1.25)

    bar_top, bar_height = 400, 40
    draw.rounded_rectangle(
        (MARGIN, bar_top, MARGIN + inner, bar_top + bar_height), bar_height // 2, fill=TRACK
    )
    share = 100 if card.percent is None else max(0, min(100, card.percent))
    filled = inner * share // 100
    if filled:
        draw.rounded_rectangle(
            (MARGIN, bar_top, MARGIN + max(filled, bar_height), bar_top + bar_height),
            bar_height // 2,
            fill=ACCENT,
        )
    draw.text((MARGIN, 475), card.figures, font=_font(40), fill=INK)
    if card.percent is not None:
        draw.text(
            (MARGIN + inner, 475),
            f"{share}%",
            font=_font(40),
            fill=ACCENT,
            anchor="ra",
            stroke_width=1,
            stroke_fill=ACCENT,
        )
    draw.text((MARGIN, 535), card.launch, font=_font(32), fill=MUTED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _paste_picture(image: Image.Image, data: bytes) -> bool:
    """Draw the campaign's picture, cropped to fill ``PICTURE_BOX`` with rounded corners;
    False (nothing drawn) if it cannot be read."""
    left, top, right, bottom = PICTURE_BOX
    size = (right - left, bottom - top)
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as opened:
            fitted = ImageOps.fit(opened.convert("RGB"), size)
    except (OSError, ValueError):
        return False
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), 20, fill=255)
    image.paste(fitted, (left, top), mask)
    return True


class PreviewCache:
    """Pictures by what they show (campaign, figures, language), the least used dropped first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._pictures: OrderedDict[Hashable, Picture] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pictures)

    async def picture(self, key: Hashable, card: PreviewCard) -> Picture:
        found = self._pictures.get(key)
        if found is None:
            png = await asyncio.to_thread(render_preview, card)
            found = Picture(png, hashlib.sha256(png).hexdigest()[:32])
            self._pictures[key] = found
            while len(self._pictures) > self.size:
                self._pictures.popitem(last=False)
        self._pictures.move_to_end(key)
        return found
