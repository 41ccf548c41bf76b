"""Message variants: other wordings of a campaign's message, and which one a pledge posts.

Identical text from many accounts is what networks flag as spam, so an organiser may give
up to four more wordings beside the main message (five in all), each optionally meant for
supporters of one language. Every wording keeps the main message's hashtags and links and
fits every network the campaign targets: ``validate_variants`` is the one place that
checks, and says precisely what is wrong (which hashtag or link is missing, which network
a wording exceeds and by how much).

A pledge records the index of the wording it posts (0: the main message, 1 to 4: the
variants in order); ``assign_variant`` hands them out in turn among the wordings meant for
the supporter's language, and ``posted_text`` is what the blast posts for a pledge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.errors import InvalidInput
from bot.domain.message_rules import hashtags, links, weighted_length
from bot.domain.networks import NetworkSpec
from bot.domain.text import Text, t

MAX_WORDINGS = 5  # the main message and four variants
MAX_VARIANTS = MAX_WORDINGS - 1
VARIANT_MAX_CHARS = 2000  # far above any network's rule: the networks' limits speak first
# "fr: text" or "fr-CA: text": a language code, a colon, the wording.
_LANGUAGE_PREFIX = re.compile(r"([a-z]{2})(?:-[A-Za-z]{2})?\s*:\s*(.*)", re.DOTALL)


@dataclass(frozen=True)
class Variant:
    """One wording of the campaign's message; ``language`` the supporters it is meant for
    (a two-letter code such as ``fr``), or None for anyone."""

    text: str
    language: str | None = None


def base_language(language: str | None) -> str | None:
    """``fr-CA`` → ``fr``; None or an empty code stays None."""
    if not language:
        return None
    return language.strip().split("-")[0].split("_")[0].lower() or None


def parse_variant(typed: str) -> Variant:
    """A variant as an organiser types it: ``fr: Rejoignez-nous…`` is meant for French
    speakers, anything else for everyone. The text is trimmed, not yet validated."""
    text = typed.strip()
    match = _LANGUAGE_PREFIX.fullmatch(text)
    if match is not None:
        return Variant(match.group(2).strip(), match.group(1))
    return Variant(text)


def parse_variant_blocks(typed: str) -> list[Variant]:
    """Variants typed in one field (the Discord form): one per block, blocks separated by
    a blank line."""
    blocks = re.split(r"\n\s*\n", typed.strip())
    return [parse_variant(block) for block in blocks if block.strip()]


def check_variant(
    message: str,
    variant: Variant,
    networks: Iterable[NetworkSpec],
    *,
    number: int,
    others: Sequence[Variant] = (),
) -> Variant:
    """Check one wording (``number`` as the organiser counts them, the main message being
    1) against the main ``message``, every network and the wordings already kept."""
    text = variant.text.strip()
    if not text:
        raise InvalidInput("variants.empty", number=number)
    if len(text) > VARIANT_MAX_CHARS:
        raise InvalidInput("variants.too_many_chars", number=number, max=VARIANT_MAX_CHARS)
    missing_tags = sorted(hashtags(message) - hashtags(text))
    if missing_tags:
        raise InvalidInput(
            "variants.missing_hashtags",
            number=number,
            tags=" ".join(f"#{tag}" for tag in missing_tags),
        )
    missing_links = sorted(links(message) - links(text))
    if missing_links:
        raise InvalidInput("variants.missing_links", number=number, links=" ".join(missing_links))
    for spec in networks:
        length = weighted_length(text, spec.length)
        if length > spec.length.limit:
            raise InvalidInput(
                "variants.too_long",
                number=number,
                network=str(spec.id),
                length=length,
                limit=spec.length.limit,
                over=length - spec.length.limit,
            )
    squashed = _squash(text)
    if squashed == _squash(message) or any(squashed == _squash(o.text) for o in others):
        raise InvalidInput("variants.duplicate", number=number)
    return Variant(text, base_language(variant.language))


def validate_variants(
    message: str, variants: Sequence[Variant], networks: Iterable[NetworkSpec]
) -> tuple[Variant, ...]:
    """Check every variant of ``message`` for ``networks``; return them trimmed.

    At most ``MAX_VARIANTS`` (five wordings in all); each keeps every hashtag and link of
    the main message, fits every network and differs from the other wordings.
    """
    if len(variants) > MAX_VARIANTS:
        raise InvalidInput("variants.too_many", max=MAX_WORDINGS)
    specs = list(networks)
    kept: list[Variant] = []
    for number, variant in enumerate(variants, start=2):
        kept.append(check_variant(message, variant, specs, number=number, others=kept))
    return tuple(kept)


def wordings(message: str, variants: Sequence[Variant]) -> tuple[Variant, ...]:
    """Every wording by index: the main message first, then the variants."""
    return (Variant(message), *variants)


def wording_text(message: str, variants: Sequence[Variant], index: int | None) -> str:
    """The text of wording ``index``; the main message for None or an index out of range
    (a variant the organiser removed before approval)."""
    if index is None or not 0 < index <= len(variants):
        return message
    return variants[index - 1].text


def assign_variant(
    message: str,
    variants: Sequence[Variant],
    language: str | None,
    counts: Mapping[int, int],
) -> int:
    """The wording a new pledge gets, in turn: among the wordings meant for ``language``,
    else among all those meant for anyone (the main message always is), the one fewest
    pledges post so far, the first on a tie. ``counts``: pledges per wording index."""
    if not variants:
        return 0
    every = wordings(message, variants)
    wanted = base_language(language)
    matching = [i for i, w in enumerate(every) if wanted and w.language == wanted]
    if not matching:
        matching = [i for i, w in enumerate(every) if w.language is None]
    return min(matching, key=lambda index: (counts.get(index, 0), index))


def variant_lines(variants: Iterable[Variant]) -> list[Text]:
    """One line per variant, numbered as organisers count them (the main message is 1)."""
    lines: list[Text] = []
    for number, variant in enumerate(variants, start=2):
        if variant.language:
            key, params = "variants.line_language", {"language": variant.language}
        else:
            key, params = "variants.line", {}
        lines.append(t(key, number=number, text=variant.text, **params))
    return lines


def variants_to_data(variants: Sequence[Variant]) -> list[dict[str, str | None]]:
    """Plain data for storage (and the dialog's saved state)."""
    return [{"text": v.text, "language": v.language} for v in variants]


def variants_from_data(data: object) -> tuple[Variant, ...]:
    """Back from ``variants_to_data``; anything malformed is left out."""
    if not isinstance(data, list):
        return ()
    found: list[Variant] = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            language = item.get("language")
            found.append(Variant(item["text"], language if isinstance(language, str) else None))
    return tuple(found)


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()
