"""The GRAPHEMES weighting: one per character a reader sees (extended grapheme clusters),
links counted as written, as a network with a 300-grapheme limit counts them."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.message_rules import grapheme_count, validate_message, weighted_length
from bot.domain.networks import LengthRule, Network, NetworkSpec, Weighting

RULE = LengthRule(limit=300, url_weight=None, weighting=Weighting.GRAPHEMES)
SPEC = NetworkSpec(id=Network("graphemic"), order=9, length=RULE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("a\r\nb", 3),  # CR LF is one cluster
        ("e\u0301te\u0301", 3),  # "été" with combining accents
        ("\u00e9t\u00e9", 3),  # the same, precomposed
        ("👩\u200d👩\u200d👧\u200d👦", 1),  # a family joined by ZWJs
        ("🏳\ufe0f\u200d🌈", 1),  # rainbow flag: emoji, variation selector, ZWJ
        ("🇫🇷🇩🇪", 2),  # two flags, four regional indicators
        ("🇫🇷🇩", 2),  # a flag and a lone regional indicator
        ("👍🏽", 1),  # skin tone modifier
        ("1\ufe0f\u20e3", 1),  # keycap
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # Scotland
        ("한국어", 3),  # precomposed Hangul
        ("\u1112\u1161\u11ab", 1),  # Hangul as jamo: one syllable
    ],
)
def test_graphemes_count_what_a_reader_sees(text: str, expected: int) -> None:
    assert grapheme_count(text) == expected
    assert weighted_length(text, RULE) == expected


def test_links_count_as_written() -> None:
    url = "https://example.org/" + "a" * 80
    assert weighted_length(f"Join {url} now", RULE) == 5 + len(url) + 4


def test_300_graphemes_fit_and_301_do_not_even_when_code_points_are_many() -> None:
    family = "👩\u200d👩\u200d👧\u200d👦"  # 7 code points, 1 grapheme
    assert validate_message(family * 300, [SPEC]) == family * 300
    with pytest.raises(InvalidInput) as exc:
        validate_message(family * 301, [SPEC])
    assert exc.value.text.params["length"] == 301
    assert exc.value.text.params["limit"] == 300


def test_combining_accents_do_not_count_twice() -> None:
    accented = "e\u0301" * 300  # 600 code points
    assert validate_message(accented, [SPEC]) == accented
