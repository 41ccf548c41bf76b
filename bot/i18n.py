"""The translation catalogue: every text a person reads is looked up here.

Catalogues are TOML files under ``bot/locales/<language>/``; each area of the code
keeps its own file (``core.toml``, ``telegram.toml`` ...), merged at load time. A key
missing in a language falls back to English, then to the key itself.

A text whose wording depends on a number is a table of CLDR plural categories plus the
parameter that picks one (``{ count = "supporters", one = "…", other = "…" }``); the
language's own plural rule (Babel's CLDR data) chooses the form, so French says
"0 soutien" where English says "0 supporters".

Every whole number given to a text is written the language's way when it is rendered
(English 12,345; French 12 345 with a narrow no-break space), so no caller formats a count
itself. Identifiers (message ids, references) are strings and stay as they are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from bot.domain.text import Text

LOCALES_DIR = Path(__file__).parent / "locales"
FALLBACK = "en"
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
SELECTOR = "count"  # in a plural table: the name of the parameter whose number picks the form


@dataclass(frozen=True)
class Plural:
    """One text in the forms a language's plural rule tells apart."""

    selector: str
    forms: Mapping[str, str]

    def form(self, language: str, value: object) -> str:
        """The form for ``value`` (``other`` when it is not a number)."""
        category = "other"
        if isinstance(value, int) and not isinstance(value, bool):
            category = plural_category(language, abs(value))
        return self.forms.get(category) or self.forms["other"]


Entry = str | Plural


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    """Babel's locale for ``language``; English's rules for a code Babel does not know."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(FALLBACK)


def plural_category(language: str, number: int) -> str:
    """The CLDR plural category of ``number`` in ``language`` (``one``, ``many``, ``other``…)."""
    return str(_locale(language).plural_form(number))


def plural_categories(language: str) -> frozenset[str]:
    """Every category ``language``'s plural rule can give; ``other`` always."""
    return frozenset({"other", *_locale(language).plural_form.tags})


@cache
def supported_languages() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir()))


@cache
def catalogue(language: str) -> Mapping[str, Entry]:
    """All keys of ``language``, flattened to ``section.key`` form."""
    merged: dict[str, Entry] = {}
    folder = LOCALES_DIR / language
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            for key, value in _flatten(tomllib.load(handle)):
                if key in merged:
                    raise ValueError(f"duplicate translation key {key!r} in {path}")
                merged[key] = value
    return merged


def preload() -> None:
    """Read every catalogue and Babel's data for each language now (blocking: run it in
    a thread). Otherwise the first message rendered in a language pays for it, about
    50 ms: the first person to ask the bot anything after a start waits for it."""
    for language in supported_languages():
        catalogue(language)
        plural_category(language, 2)
        format_number(12_345, language)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Entry]]:
    items: list[tuple[str, Entry]] = []
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and _is_plural(value):
            items.append((full, _plural(full, value)))
        elif isinstance(value, Mapping):
            items.extend(_flatten(value, f"{full}."))
        else:
            items.append((full, str(value)))
    return items


def _is_plural(table: Mapping[str, Any]) -> bool:
    return "other" in table and set(table) <= PLURAL_CATEGORIES | {SELECTOR}


def _plural(key: str, table: Mapping[str, Any]) -> Plural:
    if not isinstance(table.get(SELECTOR), str):
        raise ValueError(f"plural text {key!r} does not name its {SELECTOR!r} parameter")
    forms = {name: str(value) for name, value in table.items() if name != SELECTOR}
    return Plural(table[SELECTOR], forms)


def pick_language(code: str | None, default: str = FALLBACK) -> str:
    """Map a platform language code (``fr-CA``, ``en_GB``) to a supported language."""
    if code:
        base = code.replace("_", "-").split("-")[0].lower()
        if base in supported_languages():
            return base
    return default if default in supported_languages() else FALLBACK


def pick_from_accept_language(header: str | None, default: str = FALLBACK) -> str:
    """Choose a language from an HTTP ``Accept-Language`` header."""
    if not header:
        return default
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        lang, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:  # q=0 means "not this one"
            weighted.append((weight, lang))
    for _, lang in sorted(weighted, key=lambda item: -item[0]):
        base = lang.replace("_", "-").split("-")[0].lower()
        if base in supported_languages():
            return base
    return default


@lru_cache(maxsize=4096, typed=True)  # typed: 2 and 2.0 may be written apart
def format_number(number: int, language: str) -> str:
    """``number`` with ``language``'s digit grouping: ``12,345`` in English, ``12 345``
    (narrow no-break space) in French. Remembered: Babel takes tens of microseconds a
    number, and a page shows the same goal and counts again and again."""
    return str(format_decimal(number, locale=_locale(language)))


def format_moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def entry(key: str, language: str) -> Entry:
    """``key``'s text in ``language``, else in English, else the key itself."""
    return catalogue(language).get(key) or catalogue(FALLBACK).get(key) or key


def gettext(key: str, language: str) -> str:
    """A text without parameters (a plural text gives its ``other`` form)."""
    found = entry(key, language)
    return found.forms["other"] if isinstance(found, Plural) else found


@lru_cache(maxsize=8192)
def _lookup(key: str, language: str) -> tuple[Entry, str]:
    """``key``'s entry for ``language`` and the language it is written in (English when
    it falls back). The catalogues never change once read, so this is remembered."""
    return entry(key, language), language if key in catalogue(language) else FALLBACK


@lru_cache(maxsize=8192)
def plain_text(key: str, language: str) -> str:
    """``render(Text(key), language)``: a text without parameters, rendered once per
    language (a page asks for dozens)."""
    return _fill(key, language, {}, None)


def render(text: Text, language: str, tz: ZoneInfo | None = None) -> str:
    """``text`` in ``language``, with datetimes shown in ``tz`` (UTC if none)."""
    if not text.params:
        return plain_text(text.key, language)
    return _fill(text.key, language, text.params, tz)


def _fill(key: str, language: str, given: Mapping[str, Any], tz: ZoneInfo | None) -> str:
    found, written_in = _lookup(key, language)
    if isinstance(found, Plural):  # picked by the rule of the language it is written in
        template = found.form(written_in, given.get(found.selector))
    else:
        template = found
    params: dict[str, Any] = {}
    for name, value in given.items():
        if isinstance(value, datetime):
            params[name] = format_moment(value, tz or ZoneInfo("UTC"))
        elif isinstance(value, Text):
            params[name] = render(value, language, tz)
        elif isinstance(value, int) and not isinstance(value, bool):
            params[name] = format_number(value, written_in)  # like the words around it
        else:
            params[name] = value
    try:
        return template.format_map(params)
    except (KeyError, IndexError, ValueError):
        return template
