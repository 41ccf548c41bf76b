"""A small PNG chart of a campaign's supporters over time, drawn with Pillow.

Organisers get it with ``/stats`` and the public page shows it once launched. Drawing is
CPU work: callers run ``render_supporters_chart`` off the event loop (``asyncio.to_thread``).
Labels come from the locale files, in the reader's language; the font is the one shipped
for the preview images, so accents render everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.i18n import gettext

FONT = Path(__file__).parent / "web" / "fonts" / "DejaVuSans.ttf"
WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 48, 64
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
GRID = (222, 226, 230)
BAR = (13, 110, 253)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size=size)


def _moment_label(moment: datetime, hourly: bool) -> str:
    return moment.strftime("%d/%m %H:%M" if hourly else "%d/%m")


def render_supporters_chart(
    points: Sequence[tuple[datetime, int]], title: str, language: str
) -> bytes:
    """A bar chart of cumulative supporters per bucket (UTC), as PNG bytes (RGB)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, label = _font(12), _font(14)
    draw.text((LEFT, 14), title[:70], fill=INK, font=_font(16))
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    top_value = max((count for _, count in points), default=0)
    scale = max(top_value, 1)
    for fraction in (0.0, 0.5, 1.0):
        y = y1 - (y1 - y0) * fraction
        draw.line([(x0, y), (x1, y)], fill=GRID)
        value = round(scale * fraction)
        draw.text((x0 - 8, y), str(value), fill=INK, font=small, anchor="rm")
    draw.line([(x0, y0), (x0, y1), (x1, y1)], fill=INK, width=1)
    if points:
        slot = (x1 - x0) / len(points)
        for i, (_, count) in enumerate(points):
            height = (y1 - y0) * count / scale
            left = x0 + i * slot + max(slot * 0.15, 0.5)
            right = x0 + (i + 1) * slot - max(slot * 0.15, 0.5)
            if count:
                draw.rectangle([left, y1 - height, max(right, left + 1), y1], fill=BAR)
        hourly = len(points) < 2 or (points[1][0] - points[0][0]).total_seconds() <= 3600
        draw.text((x0, y1 + 6), _moment_label(points[0][0], hourly), fill=INK, font=small)
        draw.text(
            (x1, y1 + 6), _moment_label(points[-1][0], hourly), fill=INK, font=small, anchor="ra"
        )
    else:
        middle = ((x0 + x1) / 2, (y0 + y1) / 2)
        draw.text(
            middle, gettext("stats.chart_empty", language), fill=INK, font=label, anchor="mm"
        )
    draw.text(
        ((x0 + x1) / 2, HEIGHT - 14),
        gettext("stats.chart_x", language),
        fill=INK,
        font=label,
        anchor="ms",
    )
    y_label = Image.new("RGBA", (y1 - y0, 20), (0, 0, 0, 0))
    ImageDraw.Draw(y_label).text(
        ((y1 - y0) / 2, 10), gettext("stats.chart_y", language), fill=INK, font=label, anchor="mm"
    )
    rotated = y_label.rotate(90, expand=True)
    image.paste(rotated, (4, y0), rotated)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
