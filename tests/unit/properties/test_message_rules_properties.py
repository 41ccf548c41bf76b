"""Properties of the message rules: length only grows as text is added, every URL weighs
23 on X, and a supporter's own wording keeps the campaign's hashtags and links."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.networks.mastodon import MASTODON_SPEC as MASTODON
from adapters.networks.sandbox import SANDBOX_SPEC as SANDBOX
from adapters.networks.x import X_SPEC as X
from bot.domain.errors import InvalidInput
from bot.domain.message_rules import (
    hashtags,
    links,
    validate_personalised,
    weighted_length,
)
from bot.domain.networks import NetworkSpec
from tests.unit.properties.strategies import tricky_text

networks = st.sampled_from([X, MASTODON, SANDBOX])
URL_WEIGHT = 23
url_chars = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_~%=&/")
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}.example/{path}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=20),
    st.text(alphabet=url_chars, max_size=200),
)
plain_words = st.text(alphabet="abcdefghij KLMNOP,.!?éü", max_size=40)
tags = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé0123456789_", min_size=1, max_size=15)


@given(tricky_text, tricky_text, networks)
def test_adding_a_word_never_shortens_a_message(
    first: str, second: str, network: NetworkSpec
) -> None:
    longer = f"{first} {second}"
    assert weighted_length(longer, network.length) >= weighted_length(first, network.length)
    assert weighted_length(longer, network.length) >= weighted_length(second, network.length)


@settings(max_examples=300)
@given(tricky_text)
def test_a_space_after_any_text_weighs_exactly_one_on_x(text: str) -> None:
    assert weighted_length(f"{text} ", X.length) == weighted_length(text, X.length) + 1


@given(tricky_text)
def test_a_space_after_any_text_weighs_exactly_one_elsewhere(text: str) -> None:
    for network in (MASTODON, SANDBOX):
        assert (
            weighted_length(f"{text} ", network.length)
            == weighted_length(text, network.length) + 1
        )


@given(plain_words, urls, plain_words)
def test_every_url_weighs_23_on_x_whatever_its_length(before: str, url: str, after: str) -> None:
    alone = weighted_length(f"{before} {after}", X.length)
    assert weighted_length(url, X.length) == URL_WEIGHT
    assert weighted_length(f"{before} {url} {after}", X.length) == alone + 1 + URL_WEIGHT


@given(plain_words, st.lists(tags, min_size=1, max_size=3), urls, plain_words)
def test_own_wording_that_keeps_tags_and_links_is_accepted(
    before: str, tag_list: list[str], url: str, extra: str
) -> None:
    original = f"{before} {' '.join('#' + tag for tag in tag_list)} {url}"
    personal = f"{extra} {original} {extra}"
    assert hashtags(original) <= hashtags(personal)
    assert links(original) <= links(personal)
    assert validate_personalised(original, personal, MASTODON) == personal.strip()


@given(plain_words, st.lists(tags, min_size=1, max_size=3, unique_by=str.lower), urls)
def test_own_wording_that_drops_a_tag_or_the_link_is_refused(
    before: str, tag_list: list[str], url: str
) -> None:
    original = f"{before} {' '.join('#' + tag for tag in tag_list)} {url}"
    without_tag = original.replace(f"#{tag_list[0]}", tag_list[0], 1)
    with pytest.raises(InvalidInput) as refused:
        validate_personalised(original, without_tag, MASTODON)
    assert refused.value.key == "message.missing_hashtags"
    with pytest.raises(InvalidInput) as refused:
        validate_personalised(original, original.replace(url, "our site"), MASTODON)
    assert refused.value.key == "message.missing_links"


@given(tricky_text, tricky_text)
def test_hashtags_and_links_survive_added_words(first: str, second: str) -> None:
    joined = f"{first} {second}"
    assert hashtags(first) <= hashtags(joined)
    assert links(first) <= links(joined)


# Found by the properties above: a zero-width joiner joined whatever came next to the
# emoji before it, so "👨\u200d " weighed less than "👨\u200d" and a letter after it was
# not counted.
@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("👨\u200d", 3),
        ("👨\u200d ", 4),
        ("👨\u200dabc", 6),
        ("👨\u200d👩", 2),
        ("👨\u200d👩\u200d👧", 2),
    ],
)
def test_a_joiner_joins_only_an_emoji_that_follows(text: str, weight: int) -> None:
    assert weighted_length(text, X.length) == weight
