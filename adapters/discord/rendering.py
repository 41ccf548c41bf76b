"""Turns the core's ``OutgoingMessage`` into Discord embeds, text and button rows.

Cards (campaign, moderation) become embeds; replies and private messages become plain
text. Buttons with an ``action`` become persistent ``ActionButton``s whose custom id is
``chorus:<action>``; buttons with a URL become link buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import discord

from adapters.discord.components import ActionButton
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text
from bot.i18n import render

CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
LABEL_MAX = 80
ROW_WIDTH = 5
MAX_ROWS = 5
TITLE_KEYS = frozenset({"card.title", "moderation.header"})
CARD_COLOUR = discord.Colour.blurple()


@dataclass(frozen=True)
class Rendered:
    """What to hand discord.py: text or an embed, and an optional view of buttons."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None

    def send_kwargs(self) -> dict[str, Any]:
        """For a new message: only what is there (discord.py refuses ``view=None``)."""
        kwargs: dict[str, Any] = {}
        if self.content is not None:
            kwargs["content"] = self.content
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """For an edit: every field, ``None`` clearing what the new version lacks."""
        return {"content": self.content, "embed": self.embed, "view": self.view}


class Renderer:
    """Renders in one time zone; the language is chosen per message."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def text(self, text: Text, language: str) -> str:
        return render(text, language, self.tz)

    def as_content(self, message: OutgoingMessage, language: str) -> Rendered:
        body = "\n\n".join(self.text(part, language) for part in message.parts)
        return Rendered(
            content=_clip(body, CONTENT_MAX) or "…", view=self.view(message.buttons, language)
        )

    def as_embed(self, message: OutgoingMessage, language: str) -> Rendered:
        parts = list(message.parts)
        title = None
        if parts and parts[0].key in TITLE_KEYS:
            title = _clip(self.text(parts.pop(0), language), EMBED_TITLE_MAX)
        description = "\n\n".join(self.text(part, language) for part in parts)
        embed = discord.Embed(
            title=title,
            description=_clip(description, EMBED_DESCRIPTION_MAX) or None,
            colour=CARD_COLOUR,
        )
        return Rendered(embed=embed, view=self.view(message.buttons, language))

    def view(self, rows: tuple[tuple[Button, ...], ...], language: str) -> discord.ui.View | None:
        """A persistent view (no timeout) with one Discord row per core row."""
        if not rows:
            return None
        view = discord.ui.View(timeout=None)
        row_index = 0
        for row in rows:
            for start in range(0, len(row), ROW_WIDTH):
                if row_index >= MAX_ROWS:
                    return view
                for button in row[start : start + ROW_WIDTH]:
                    view.add_item(self.button(button, language, row_index))
                row_index += 1
        return view

    def button(self, button: Button, language: str, row: int) -> discord.ui.Item[Any]:
        label = _clip(self.text(button.label, language), LABEL_MAX)
        if button.url is not None:
            return discord.ui.Button(
                label=label, url=button.url, style=discord.ButtonStyle.link, row=row
            )
        assert button.action is not None
        return ActionButton(button.action, label=label, style=style_for(button.action), row=row)


def style_for(action: str) -> discord.ButtonStyle:
    verb = action.split(":", 1)[0]
    if verb == "approve" or action in ("dlg:submit", "dlg:networks_done"):
        return discord.ButtonStyle.success
    if verb in ("reject", "forget") or action == "dlg:cancel":
        return discord.ButtonStyle.danger
    if verb in ("support", "form") or action == "dlg:edit":
        return discord.ButtonStyle.primary
    return discord.ButtonStyle.secondary


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
