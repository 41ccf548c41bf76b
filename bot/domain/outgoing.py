"""Platform-neutral messages the core asks a chat front end to show.

Buttons carry either a URL or an ``action`` string (``support:K7QX2M``,
``approve:12``); each front end turns actions into its own callback data or custom id.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.text import Text


@dataclass(frozen=True)
class Button:
    label: Text
    action: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """Paragraphs of text plus rows of buttons."""

    parts: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()

    @classmethod
    def of(cls, *parts: Text, buttons: tuple[tuple[Button, ...], ...] = ()) -> OutgoingMessage:
        return cls(parts=parts, buttons=buttons)
