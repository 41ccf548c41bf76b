"""Text that people type, biased towards the pieces our parsers treat specially.

Arbitrary Unicode rarely puts an emoji before a zero-width joiner or a dot after a URL,
so half the examples are built from such pieces.
"""

from __future__ import annotations

from hypothesis import strategies as st

PIECES = (
    " ",
    "\t",
    "\n",
    "\u00a0",
    "#",
    "@",
    ":",
    "/",
    ".",
    ",",
    "!",
    ")",
    "'",
    "-",
    "_",
    "0",
    "7",
    "12",
    "T",
    "a",
    "Z",
    "é",
    "e\u0301",  # e + combining acute (NFC makes it one character)
    "\u0301",
    "\u200d",  # zero-width joiner
    "\ufe0f",  # emoji presentation
    "\u20e3",  # keycap
    "👍",
    "👨\u200d👩",  # a joined emoji sequence
    "👨\u200d",  # one cut short, as when the last emoji is deleted
    "👨",
    "👩",
    "🏻",
    "🇫",
    "🇷",
    "€",
    "²",
    "١",  # Arabic-Indic digit one
    "３",  # full-width digit three
    "İ",
    "ß",
    "http://",
    "https://",
    "HTTP://",
    "a.org",
    "xn--",
    "localhost",
)

pieces_text = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
tricky_text = st.one_of(pieces_text, st.text(max_size=40))
