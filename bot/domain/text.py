"""A piece of text to show a person, as a catalogue key and its parameters.

The core speaks in ``Text`` values; front ends render them in the reader's language
through ``bot.i18n``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Text:
    """A catalogue key plus the values that fill its placeholders."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def t(key: str, **params: Any) -> Text:
    """Shorthand for ``Text(key, params)``."""
    return Text(key, params)
