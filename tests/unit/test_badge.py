"""The badge is well-formed SVG whatever its texts hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.web.badge import badge_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_texts_with_markup_are_escaped_and_the_badge_widens_with_them() -> None:
    short = ET.fromstring(badge_svg("Chorus", "1 / 2", "x"))
    root = ET.fromstring(badge_svg("Chorus", "<b>&</b> 1 / 2", '"quoted" <title>'))
    assert [node.text for node in root.iter(f"{SVG}text")] == ["Chorus", "<b>&</b> 1 / 2"]
    assert root.attrib["aria-label"] == 'Chorus · "quoted" <title>: <b>&</b> 1 / 2'
    assert int(root.attrib["width"]) > int(short.attrib["width"])
