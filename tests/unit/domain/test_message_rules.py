"""Message rules: how each network counts a post, and what a personalised message keeps."""

from __future__ import annotations

import pytest

from adapters.networks.mastodon import MASTODON_SPEC as MASTODON
from adapters.networks.x import X_SPEC as X
from bot.domain.errors import InvalidInput
from bot.domain.message_rules import (
    hashtags,
    links,
    validate_message,
    validate_personalised,
    weighted_length,
)
from bot.domain.networks import NetworkSpec

LONG_URL = "https://example.org/" + "a" * 200
SHORT_URL = "https://t.co/x"


def refusal(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, dict[str, object]]:
    return exc.value.key, dict(exc.value.text.params)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("", 0),
        ("日本語", 6),  # CJK weighs 2 on X
        ("😀", 2),
        ("a😀b", 4),
        ("👍🏽", 2),  # emoji with a skin tone is one emoji
        ("👨\u200d👩\u200d👧", 2),  # a ZWJ family is one emoji
        ("❤️", 2),  # heart with the emoji variation selector
        ("🇫🇷", 2),  # a flag is a pair of regional indicators
        ("🇫🇷🇩🇪", 4),
        ("1️⃣", 2),  # keycap
        ("e\u0301", 1),  # X counts the NFC form: é is one character
        ("café", 4),
        ("\u2018quoted\u2019", 8),  # typographic quotes are light on X
    ],
)
def test_x_weights_characters_like_twitter_text(text: str, expected: int) -> None:
    assert weighted_length(text, X.length) == expected


@pytest.mark.parametrize("url", [SHORT_URL, LONG_URL, "http://example.org", "HTTPS://EX.ORG/A"])
@pytest.mark.parametrize("network", [X, MASTODON])
def test_every_url_counts_23_whatever_its_length(url: str, network: NetworkSpec) -> None:
    assert weighted_length(url, network.length) == 23
    assert weighted_length(f"see {url} now", network.length) == 4 + 23 + 4


def test_punctuation_after_a_url_counts_as_text() -> None:
    assert weighted_length(f"see {LONG_URL}.", X.length) == 4 + 23 + 1
    assert weighted_length(f"({SHORT_URL})", MASTODON.length) == 1 + 23 + 1


def test_mastodon_counts_code_points_and_no_double_weight() -> None:
    assert weighted_length("日本語😀", MASTODON.length) == 4


def test_x_exactly_280_fits_and_281_does_not() -> None:
    exact = "a" * 280
    assert validate_message(exact, [X]) == exact
    with pytest.raises(InvalidInput) as exc:
        validate_message("a" * 281, [X])
    assert refusal(exc) == ("message.too_long", {"network": "x", "length": 281, "limit": 280})


def test_x_limit_with_url_and_cjk() -> None:
    fits = "字" * 128 + " " + LONG_URL  # 256 + 1 + 23 = 280
    assert validate_message(fits, [X]) == fits
    with pytest.raises(InvalidInput) as exc:
        validate_message("字" + fits, [X])
    assert refusal(exc)[1]["length"] == 282


def test_mastodon_500_fits_and_501_does_not() -> None:
    assert validate_message("m" * 500, [MASTODON]) == "m" * 500
    with pytest.raises(InvalidInput) as exc:
        validate_message("m" * 501, [MASTODON])
    assert refusal(exc) == (
        "message.too_long",
        {"network": "mastodon", "length": 501, "limit": 500},
    )


def test_message_must_fit_every_targeted_network() -> None:
    text = "b" * 300
    assert validate_message(text, [MASTODON]) == text
    with pytest.raises(InvalidInput) as exc:
        validate_message(text, [MASTODON, X])
    assert refusal(exc)[1]["network"] == "x"
    assert X.length.limit < MASTODON.length.limit


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_message_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_message(text, [X])
    assert exc.value.key == "message.empty"


def test_message_is_returned_trimmed_and_trimmed_length_counts() -> None:
    assert validate_message("  hi #tag  ", [X]) == "hi #tag"
    assert validate_message(" " + "a" * 280 + "\n", [X]) == "a" * 280


def test_hashtags_and_links_are_extracted() -> None:
    text = f"Join #Climate and #climate2030! Read {SHORT_URL}. Not a#tag nor ##twice"
    assert hashtags(text) == {"climate", "climate2030"}
    assert links(text) == {SHORT_URL}


ORIGINAL = "Save the bees #SaveBees #Pollinators https://bees.example/act"


def test_personalised_message_keeping_everything_is_accepted() -> None:
    mine = "My own words: #savebees #POLLINATORS https://bees.example/act please!"
    assert validate_personalised(ORIGINAL, f"  {mine} ", MASTODON) == mine


def test_personalised_message_missing_a_hashtag_is_refused_with_it_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_personalised(ORIGINAL, "Bees! #SaveBees https://bees.example/act", X)
    assert refusal(exc) == ("message.missing_hashtags", {"tags": "#pollinators"})


def test_personalised_message_missing_a_link_is_refused_with_it_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_personalised(ORIGINAL, "#SaveBees #Pollinators https://other.example", X)
    assert refusal(exc) == ("message.missing_links", {"links": "https://bees.example/act"})


def test_personalised_message_must_fit_its_network() -> None:
    long_mine = ORIGINAL + " " + "z" * 260
    assert validate_personalised(ORIGINAL, long_mine, MASTODON) == long_mine
    with pytest.raises(InvalidInput) as exc:
        validate_personalised(ORIGINAL, long_mine, X)
    assert exc.value.key == "message.too_long"


def test_empty_personalised_message_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_personalised("No tags here", "   ", X)
    assert exc.value.key == "message.empty"
