"""The preview picture's text fitting, its font fallback and its bounded cache."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.web.preview_image import (
    PreviewCache,
    PreviewCard,
    _font,
    _wrap,
    drawable,
    render_preview,
)


def card(title: str = "Save the river", percent: int | None = 40) -> PreviewCard:
    return PreviewCard(
        "Chorus", title, "4 of 10 supporters · reach 9 followers", "Launch", percent
    )


def test_a_long_title_is_cut_to_three_lines_ending_in_an_ellipsis() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = _font(64)
    lines = _wrap(draw, "word " * 200, font, 1056, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(draw.textlength(line, font=font) <= 1056 for line in lines)


def test_a_word_longer_than_a_line_is_broken_not_overflowing() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = _font(64)
    lines = _wrap(draw, "A" * 80, font, 1056, 3)
    assert "".join(lines).rstrip("…").startswith("A" * 20)
    assert all(draw.textlength(line, font=font) <= 1056 for line in lines)


def test_french_titles_keep_their_accents() -> None:
    assert drawable("L’été « ça » Œuvre — 100 €") == "L’été « ça » Œuvre — 100 €"


def test_what_the_font_lacks_falls_back_to_a_base_letter_or_goes() -> None:
    assert drawable("Ｓave 🌊 the bees") == "Save the bees"  # a full-width S, an emoji


def test_every_card_is_a_1200_by_630_png_even_without_a_minimum() -> None:
    for percent in (None, 0, 100, 250):
        image = Image.open(io.BytesIO(render_preview(card(percent=percent))))
        assert (image.format, image.size) == ("PNG", (1200, 630))


async def test_the_cache_keeps_a_picture_per_key_and_drops_the_least_used() -> None:
    cache = PreviewCache(size=2)
    first = await cache.picture(("a",), card("One"))
    assert await cache.picture(("a",), card("One")) is first
    second = await cache.picture(("b",), card("Two"))
    assert second.etag != first.etag
    await cache.picture(("a",), card("One"))  # "a" is now the most recently used
    await cache.picture(("c",), card("Three"))
    assert len(cache) == 2
    assert await cache.picture(("a",), card("One")) is first
    assert await cache.picture(("b",), card("Two")) is not second  # dropped, drawn again
