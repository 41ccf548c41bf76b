"""How long a post may be on each network, and what a personalised message must keep.

Every rule about message text lives here, so the dialog, the pledge page and the blast
agree on what fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.domain.errors import InvalidInput
from bot.domain.networks import Network

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)

URL_WEIGHT = 23
LIMITS: dict[Network, int] = {
    Network.X: 280,
    Network.MASTODON: 500,
    Network.SANDBOX: 500,
}

# twitter-text v3: these code point ranges weigh 1, everything else weighs 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _x_char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(lo <= code <= hi for lo, hi in _X_LIGHT_RANGES) else 2


def weighted_length(text: str, network: Network) -> int:
    """Length of ``text`` as ``network`` counts it (each URL counts as 23)."""
    length = 0
    cursor = 0
    for match in URL_RE.finditer(text):
        length += _plain_length(text[cursor : match.start()], network) + URL_WEIGHT
        cursor = match.end()
    return length + _plain_length(text[cursor:], network)


def _plain_length(text: str, network: Network) -> int:
    if network is Network.X:
        return sum(_x_char_weight(c) for c in text)
    return len(text)


def hashtags(text: str) -> set[str]:
    """Hashtags in ``text``, lower-cased, without the ``#``."""
    return {tag.lower() for tag in HASHTAG_RE.findall(text)}


def links(text: str) -> set[str]:
    """URLs in ``text``, with trailing punctuation trimmed."""
    return {url.rstrip(".,;:!?)") for url in URL_RE.findall(text)}


def validate_message(text: str, networks: Iterable[Network]) -> str:
    """Check a campaign message against every network it targets; return it trimmed."""
    text = text.strip()
    if not text:
        raise InvalidInput("message.empty")
    for network in networks:
        length = weighted_length(text, network)
        limit = LIMITS[network]
        if length > limit:
            raise InvalidInput(
                "message.too_long", network=network.value, length=length, limit=limit
            )
    return text


def validate_personalised(original: str, personal: str, network: Network) -> str:
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
