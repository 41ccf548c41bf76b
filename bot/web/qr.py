"""QR codes of public pages: inline SVG on the campaign page, an SVG file for a recruit link.

segno writes the SVG from the address alone; the result is cached since a page's address
never changes. The public page draws its code inline (the same for every visitor); a
supporter's recruit link (it carries their own code) is drawn only when their browser asks
for the image (``bot/web/recruit_qr.py``). The mask is fixed: choosing the best of the
eight (segno's default) is four fifths of the cost. Any mask makes a valid code that every
reader reads; the best one only scores fewer look-alike patterns.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from markupsafe import Markup

MASK = 0  # QR mask pattern 0 (checkerboard): valid for every version and error level
LOOK = {"scale": 4, "border": 2, "dark": "#111", "light": "#fff", "omitsize": True}


@lru_cache(maxsize=256)
def qr_svg(url: str, title: str) -> Markup:
    """The QR code of ``url`` as an ``<svg>`` element (``title`` is its accessible name)."""
    code = segno.make(url, error="m", mask=MASK)
    svg = code.svg_inline(title=title, **LOOK)
    return Markup(svg)  # segno escapes the title; the rest is its own markup


def qr_svg_file(url: str) -> bytes:
    """The QR code of ``url`` as a standalone SVG file (``image/svg+xml``), with no title:
    the same for every reader, whose page names it in the image's ``alt``."""
    out = io.BytesIO()
    segno.make(url, error="m", mask=MASK).save(out, kind="svg", xmldecl=False, **LOOK)
    return out.getvalue()
