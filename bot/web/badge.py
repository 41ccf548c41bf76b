"""The live badge: a small SVG ("Chorus | 42 / 100 supporters") organisers put on their sites.

Both halves are XML-escaped (a title or a translation can hold ``<&>``); the widths are
estimated from the text length, as shields-style badges do, since no font is measured.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

HEIGHT = 20
CHAR_WIDTH = 7  # average width of an 11px sans-serif character
PADDING = 10
LABEL_FILL = "#1d1b22"
VALUE_FILL = "#4b2bd6"


def _width(text: str) -> int:
    return len(text) * CHAR_WIDTH + 2 * PADDING


def badge_svg(label: str, value: str, title: str) -> str:
    """An SVG document with ``label`` on the dark half and ``value`` on the coloured half;
    ``title`` (the campaign's) is its accessible name and tooltip."""
    left, right = _width(label), _width(value)
    total = left + right
    name = f"{label} · {title}: {value}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" '
        f'role="img" aria-label={quoteattr(name)}>'
        f"<title>{escape(name)}</title>"
        f'<rect width="{left}" height="{HEIGHT}" rx="3" fill="{LABEL_FILL}"/>'
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" rx="3" fill="{VALUE_FILL}"/>'
        f'<rect x="{left}" width="4" height="{HEIGHT}" fill="{VALUE_FILL}"/>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:g}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2:g}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )
