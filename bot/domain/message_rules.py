"""How long a post is under a network's length rule, and what a personalised message keeps.

Every rule about message text lives here, so the dialog, the pledge page and the blast
agree on what fits; each network's adapter declares which rule (limit, URL weight,
weighting) applies to it in its ``NetworkSpec``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import regex

from bot.domain.errors import InvalidInput
from bot.domain.networks import LengthRule, NetworkSpec, Weighting

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)

# twitter-text v3: these code point ranges weigh 1, everything else weighs 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL_TRAILING = ".,;:!?)"
_ZWJ = 0x200D
_REGIONAL_FIRST, _REGIONAL_LAST = 0x1F1E6, 0x1F1FF
# Variation selectors, skin tones, the keycap mark and tag characters extend an emoji.
_EMOJI_MODIFIERS = frozenset(
    {0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}
)
_EMOJI_PRESENTATION = frozenset({0xFE0F, 0x20E3})
_EMOJI_RANGES = ((0x2190, 0x2BFF), (0x1F000, 0x1FAFF))  # symbols, pictographs, flags
# One extended grapheme cluster (Unicode UAX #29, as the ``regex`` module keeps it current):
# "é" typed as e + combining accent, a flag, a family joined by ZWJs are each one.
_GRAPHEME_RE = regex.compile(r"\X")


def _x_char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(lo <= code <= hi for lo, hi in _X_LIGHT_RANGES) else 2


def weighted_length(text: str, rule: LengthRule) -> int:
    """Length of ``text`` as ``rule`` counts it (each URL weighs ``rule.url_weight``).

    Punctuation closing a sentence after a URL is not part of it (as in ``links``), so it
    counts as text; twitter-text weighting counts the NFC form, and one emoji sequence
    weighs 2 whatever its code points.
    """
    if rule.url_weight is None:
        return _plain_length(text, rule.weighting)
    if rule.weighting is Weighting.TWITTER_TEXT:
        text = unicodedata.normalize("NFC", text)
    length = 0
    cursor = 0
    for match in URL_RE.finditer(text):
        end = match.start() + len(match.group().rstrip(_URL_TRAILING))
        length += _plain_length(text[cursor : match.start()], rule.weighting) + rule.url_weight
        cursor = end
    return length + _plain_length(text[cursor:], rule.weighting)


def _plain_length(text: str, weighting: Weighting) -> int:
    if weighting is Weighting.TWITTER_TEXT:
        return _x_plain_length(text)
    if weighting is Weighting.GRAPHEMES:
        return grapheme_count(text)
    return len(text)


def grapheme_count(text: str) -> int:
    """How many extended grapheme clusters ``text`` holds: the characters a reader sees."""
    if text.isascii():  # no cluster of ASCII spans two code points but CR LF
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME_RE.findall(text))


def _is_emoji(char: str) -> bool:
    return any(lo <= ord(char) <= hi for lo, hi in _EMOJI_RANGES)


def _x_plain_length(text: str) -> int:
    """twitter-text v3 weights with emoji parsing: a whole emoji sequence weighs 2."""
    length = 0
    in_emoji = False  # the previous code point started or continued an emoji
    pending_flag = False  # a lone regional indicator waiting for its pair
    index = 0
    while index < len(text):
        code = ord(text[index])
        if in_emoji and code in _EMOJI_MODIFIERS:
            index += 1
            continue
        if in_emoji and code == _ZWJ and index + 1 < len(text) and _is_emoji(text[index + 1]):
            index += 2  # the joined emoji belongs to the same sequence
            continue
        if _REGIONAL_FIRST <= code <= _REGIONAL_LAST:
            if pending_flag:
                pending_flag = False
                index += 1
                continue
            pending_flag = True
        else:
            pending_flag = False
        weight = _x_char_weight(text[index])
        in_emoji = _is_emoji(text[index])
        if index + 1 < len(text) and ord(text[index + 1]) in _EMOJI_PRESENTATION:
            weight, in_emoji = 2, True  # "1️⃣", "©️": a light character shown as an emoji
        length += weight
        index += 1
    return length


def hashtags(text: str) -> set[str]:
    """Hashtags in ``text``, lower-cased, without the ``#``."""
    return {tag.lower() for tag in HASHTAG_RE.findall(text)}


def links(text: str) -> set[str]:
    """URLs in ``text``, with trailing punctuation trimmed."""
    return {url.rstrip(_URL_TRAILING) for url in URL_RE.findall(text)}


def validate_message(text: str, networks: Iterable[NetworkSpec]) -> str:
    """Check a campaign message against every network it targets; return it trimmed."""
    text = text.strip()
    if not text:
        raise InvalidInput("message.empty")
    for spec in networks:
        length = weighted_length(text, spec.length)
        limit = spec.length.limit
        if length > limit:
            raise InvalidInput(
                "message.too_long", network=str(spec.id), length=length, limit=limit
            )
    return text


def validate_personalised(original: str, personal: str, network: NetworkSpec) -> str:
    """Check a supporter's own wording: it keeps every hashtag and link and fits."""
    personal = personal.strip()
    missing_tags = sorted(hashtags(original) - hashtags(personal))
    if missing_tags:
        raise InvalidInput(
            "message.missing_hashtags", tags=" ".join(f"#{t}" for t in missing_tags)
        )
    missing_links = sorted(links(original) - links(personal))
    if missing_links:
        raise InvalidInput("message.missing_links", links=" ".join(missing_links))
    return validate_message(personal, [network])
