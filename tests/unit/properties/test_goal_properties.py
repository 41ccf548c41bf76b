"""Properties of goal parsing: every whole number from 0 to one million is accepted in
each documented form, and anything else is refused with our explained error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.campaign import GOAL_MAX, NO_MINIMUM_WORDS, validate_goal
from bot.domain.errors import InvalidInput
from tests.unit.properties.strategies import tricky_text

goals = st.integers(min_value=0, max_value=GOAL_MAX)
SEPARATORS = (",", "_", " ", "\u00a0", "\u202f")  # 1,000 · 1_000 · 1 000 (with French spaces)
# What the parser accepts, said once more independently of how it is written.
DOCUMENTED = re.compile(r"-?[0-9]{1,3}(?:([,_ \u00a0\u202f])[0-9]{3}(?:\1[0-9]{3})*)?|-?[0-9]+")


NUMBER_PIECES = ("0", "1", "5", "9", "000", "250", ",", "_", " ", "\u00a0", "-", "+", ".", "e")
OTHER_DIGITS = (
    "١",
    "３",
    "²",
    "߁",
)  # Arabic-Indic one, full-width three, superscript two, NKo one
number_like = st.lists(st.sampled_from(NUMBER_PIECES + OTHER_DIGITS), min_size=1, max_size=8).map(
    "".join
)


def grouped(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


@given(goals, st.sampled_from(SEPARATORS), st.sampled_from(["", " ", "\t", "  \n"]))
def test_every_goal_in_range_is_read_in_every_documented_form(
    goal: int, separator: str, padding: str
) -> None:
    for typed in (str(goal), grouped(goal, separator)):
        assert validate_goal(f"{padding}{typed}{padding}") == goal


@given(st.integers(min_value=GOAL_MAX + 1), st.sampled_from(("", *SEPARATORS)))
def test_goals_above_a_million_are_refused_as_too_big(goal: int, separator: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_goal(grouped(goal, separator) if separator else str(goal))
    assert refused.value.key == "goal.too_big"


@given(st.integers(max_value=-1))
def test_negative_goals_are_refused_as_negative(goal: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_goal(str(goal))
    assert refused.value.key == "goal.negative"


@given(st.one_of(number_like, tricky_text))
def test_any_other_text_is_refused_with_our_error(text: str) -> None:
    try:
        goal = validate_goal(text)
    except InvalidInput as refused:
        assert refused.key in ("goal.not_a_number", "goal.negative", "goal.too_big")
        return
    stripped = text.strip()
    assert 0 <= goal <= GOAL_MAX
    assert stripped.lower() in NO_MINIMUM_WORDS or DOCUMENTED.fullmatch(stripped), stripped


# Found by the properties above: separators were dropped wherever they stood, so the
# French decimal "1,5" became a goal of 15, and int() read other scripts' digits; the
# no-break spaces French typing puts in "1 000" were refused.
@pytest.mark.parametrize(
    ("typed", "goal"),
    [("1\u00a0000", 1000), ("1\u202f000", 1000), ("1 000 000", GOAL_MAX), ("-0", 0)],
)
def test_thousands_with_french_spaces_are_read(typed: str, goal: int) -> None:
    assert validate_goal(typed) == goal


@pytest.mark.parametrize("typed", ["1,5", "10,00", "1,0,0", "1 00", "1,000_000", "+5", "١٢", "３"])
def test_numbers_not_in_a_documented_form_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_goal(typed)
    assert (refused.value.key, refused.value.text.params) == (
        "goal.not_a_number",
        {"value": typed},
    )
