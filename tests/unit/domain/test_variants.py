"""Message variants: each wording checked with its precise reason, and handed out in turn."""

from __future__ import annotations

from collections import Counter

import pytest

from adapters.networks.mastodon import MASTODON_SPEC as MASTODON
from adapters.networks.x import X_SPEC as X
from bot.domain.errors import InvalidInput
from bot.domain.variants import (
    MAX_VARIANTS,
    Variant,
    assign_variant,
    parse_variant,
    parse_variant_blocks,
    validate_variants,
    variants_from_data,
    variants_to_data,
    wording_text,
)

MESSAGE = "Save the bees #bees #pollinators https://bees.example/act"
LINK = "https://bees.example/act"


def refusal(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, dict[str, object]]:
    return exc.value.key, dict(exc.value.text.params)


def good(n: int) -> Variant:
    return Variant(f"Wording {n}: bees need us #bees #pollinators {LINK}")


def test_good_variants_are_kept_trimmed_with_their_language() -> None:
    kept = validate_variants(
        MESSAGE,
        [
            Variant(f"  Bees! #bees #pollinators {LINK} "),
            Variant(f"Abeilles #bees #pollinators {LINK}", "FR"),
        ],
        [X, MASTODON],
    )
    assert kept == (
        Variant(f"Bees! #bees #pollinators {LINK}"),
        Variant(f"Abeilles #bees #pollinators {LINK}", "fr"),
    )


def test_a_missing_hashtag_is_named_with_the_wording_number() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_variants(MESSAGE, [good(2), Variant(f"Only #bees {LINK}")], [MASTODON])
    assert refusal(exc) == ("variants.missing_hashtags", {"number": 3, "tags": "#pollinators"})


def test_hashtags_are_matched_whatever_their_case() -> None:
    kept = validate_variants(MESSAGE, [Variant(f"#BEES #Pollinators {LINK}")], [MASTODON])
    assert len(kept) == 1


def test_a_missing_link_is_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_variants(MESSAGE, [Variant("Bees #bees #pollinators https://other.example")], [X])
    assert refusal(exc) == ("variants.missing_links", {"number": 2, "links": LINK})


def test_too_long_for_x_but_not_for_mastodon_says_which_network_and_by_how_much() -> None:
    long = Variant("b" * 260 + f" #bees #pollinators {LINK}")  # 260 + 20 + 23 = 303 on X
    assert validate_variants(MESSAGE, [long], [MASTODON]) == (long,)
    with pytest.raises(InvalidInput) as exc:
        validate_variants(MESSAGE, [long], [MASTODON, X])
    key, params = refusal(exc)
    assert key == "variants.too_long"
    assert params == {"number": 2, "network": "x", "length": 303, "limit": 280, "over": 23}


def test_a_sixth_wording_is_refused() -> None:
    five = [good(n) for n in range(2, 2 + MAX_VARIANTS)]
    assert len(validate_variants(MESSAGE, five[:MAX_VARIANTS], [X])) == 4
    with pytest.raises(InvalidInput) as exc:
        validate_variants(MESSAGE, [*five, good(9)], [X])
    assert refusal(exc) == ("variants.too_many", {"max": 5})


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        ([Variant("   ")], "variants.empty"),
        ([Variant(MESSAGE.replace(" ", "  "))], "variants.duplicate"),  # the main one again
        ([good(2), Variant(" " + good(2).text)], "variants.duplicate"),
        ([Variant("x" * 2001)], "variants.too_many_chars"),
    ],
)
def test_empty_repeated_or_huge_wordings_are_refused(variants: list[Variant], key: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_variants(MESSAGE, variants, [MASTODON])
    assert exc.value.key == key


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("fr: Sauvons les abeilles", Variant("Sauvons les abeilles", "fr")),
        ("fr-CA:Sauvons", Variant("Sauvons", "fr")),
        ("Note: bees matter", Variant("Note: bees matter")),  # not a lower-case code
        ("  plain words  ", Variant("plain words")),
        ("https://bees.example is where", Variant("https://bees.example is where")),
    ],
)
def test_a_language_prefix_is_read(typed: str, expected: Variant) -> None:
    variant = parse_variant(typed)
    assert variant.text == expected.text
    assert (variant.language or None) == (expected.language or None)


def test_blocks_separated_by_blank_lines_are_one_variant_each() -> None:
    typed = "First line\nstill first\n\n  \nfr: Deuxième\n\n\n"
    assert parse_variant_blocks(typed) == [
        Variant("First line\nstill first"),
        Variant("Deuxième", "fr"),
    ]
    assert parse_variant_blocks("   ") == []


def test_stored_data_round_trips_and_garbage_is_left_out() -> None:
    variants = (Variant("one"), Variant("deux", "fr"))
    assert variants_from_data(variants_to_data(variants)) == variants
    assert variants_from_data([{"text": 3}, "x", {"language": "fr"}]) == ()
    assert variants_from_data(None) == ()


def test_a_wording_index_out_of_range_posts_the_main_message() -> None:
    variants = (Variant("two"), Variant("three"))
    assert [wording_text("one", variants, i) for i in (None, 0, 1, 2, 3, -1)] == [
        "one",
        "one",
        "two",
        "three",
        "one",
        "one",
    ]


def hand_out(variants: tuple[Variant, ...], languages: list[str | None]) -> Counter[int]:
    """Assign one pledge per language in ``languages``, counting as storage would."""
    counts: Counter[int] = Counter()
    for language in languages:
        counts[assign_variant(MESSAGE, variants, language, counts)] += 1
    return counts


def test_round_robin_is_even_among_wordings() -> None:
    variants = (good(2), good(3), good(4))
    counts = hand_out(variants, ["en"] * 41)
    assert sorted(counts) == [0, 1, 2, 3]
    assert max(counts.values()) - min(counts.values()) <= 1
    assert hand_out((), ["en"] * 3) == Counter({0: 3})


def test_round_robin_respects_the_supporters_language() -> None:
    french = (Variant("Abeilles #bees #pollinators", "fr"), Variant("Sauvons #bees", "fr"))
    variants = (good(2), *french)
    counts = hand_out(variants, ["fr", "fr-BE", "fr", "fr"])
    assert counts == Counter({2: 2, 3: 2})  # only the French ones, evenly
    counts = hand_out(variants, ["en", "de", None, "en"])
    assert counts == Counter({0: 2, 1: 2})  # the wordings meant for anyone


def test_another_language_falls_back_to_the_wordings_meant_for_anyone() -> None:
    variants = (Variant("Abeilles", "fr"), Variant("Bienen", "de"))
    assert hand_out(variants, ["it", None, "it"]) == Counter({0: 3})  # the main message
    assert assign_variant(MESSAGE, variants, "de", {}) == 2
