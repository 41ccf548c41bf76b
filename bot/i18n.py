"""The translation catalogue: every text a person reads is looked up here.

Catalogues are TOML files under ``bot/locales/<language>/``; each area of the code
keeps its own file (``core.toml``, ``telegram.toml`` ...), merged at load time. A key
missing in a language falls back to English, then to the key itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.text import Text

LOCALES_DIR = Path(__file__).parent / "locales"
FALLBACK = "en"


@cache
def supported_languages() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir()))


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """All keys of ``language``, flattened to ``section.key`` form."""
    merged: dict[str, str] = {}
    folder = LOCALES_DIR / language
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            for key, value in _flatten(tomllib.load(handle)):
                if key in merged:
                    raise ValueError(f"duplicate translation key {key!r} in {path}")
                merged[key] = value
    return merged


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{full}."))
        else:
            items.append((full, str(value)))
    return items


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


def format_moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def gettext(key: str, language: str) -> str:
    return catalogue(language).get(key) or catalogue(FALLBACK).get(key) or key


def render(text: Text, language: str, tz: ZoneInfo | None = None) -> str:
    """``text`` in ``language``, with datetimes shown in ``tz`` (UTC if none)."""
    template = gettext(text.key, language)
    params: dict[str, Any] = {}
    for name, value in text.params.items():
        if isinstance(value, datetime):
            params[name] = format_moment(value, tz or ZoneInfo("UTC"))
        elif isinstance(value, Text):
            params[name] = render(value, language, tz)
        else:
            params[name] = value
    try:
        return template.format_map(params)
    except (KeyError, IndexError, ValueError):
        return template
