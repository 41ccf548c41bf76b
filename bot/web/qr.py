"""QR codes of public pages, drawn as inline SVG so posters and screens need no request.

segno writes the SVG from the address alone; the result is cached since a page's address
never changes. The mask is fixed: choosing the best of the eight (segno's default) is four
fifths of the cost, and every thank-you page draws a code of its own (the recruit link
carries the supporter's code, so the cache does not help there). Any mask makes a valid
code that every reader reads; the best one only scores fewer look-alike patterns.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup

MASK = 0  # QR mask pattern 0 (checkerboard): valid for every version and error level


@lru_cache(maxsize=256)
def qr_svg(url: str, title: str) -> Markup:
    """The QR code of ``url`` as an ``<svg>`` element (``title`` is its accessible name)."""
    code = segno.make(url, error="m", mask=MASK)
    svg = code.svg_inline(scale=4, border=2, dark="#111", light="#fff", title=title, omitsize=True)
    return Markup(svg)  # segno escapes the title; the rest is its own markup
