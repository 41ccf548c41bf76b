"""Turns the core's ``OutgoingMessage`` into Discord embeds, text and button rows.

Cards (campaign, moderation) become embeds; replies and private messages become plain
text. Buttons with an ``action`` become persistent ``ActionButton``s whose custom id is
``chorus:<action>``; buttons with a URL become link buttons, except a URL longer than
Discord accepts in a button (512 characters): that one is written as a line of the
message instead, so the message still goes out and the link still works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import discord

from adapters.discord.components import ActionButton
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text
from bot.i18n import render

log = logging.getLogger(__name__)

CONTENT_MAX = 2000
LINK_URL_MAX = 512  # Discord refuses a link button with a longer URL
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
        rows, lines = self.split_long_links(message.buttons, language)
        return Rendered(
            content=_with_lines(body, lines, CONTENT_MAX) or "…", view=self.view(rows, language)
        )

    def as_embed(self, message: OutgoingMessage, language: str) -> Rendered:
        parts = list(message.parts)
        title = None
        if parts and parts[0].key in TITLE_KEYS:
            title = _clip(self.text(parts.pop(0), language), EMBED_TITLE_MAX)
        description = "\n\n".join(self.text(part, language) for part in parts)
        rows, lines = self.split_long_links(message.buttons, language)
        embed = discord.Embed(
            title=title,
            description=_with_lines(description, lines, EMBED_DESCRIPTION_MAX) or None,
            colour=CARD_COLOUR,
        )
        return Rendered(embed=embed, view=self.view(rows, language))

    def split_long_links(
        self, rows: tuple[tuple[Button, ...], ...], language: str
    ) -> tuple[tuple[tuple[Button, ...], ...], list[str]]:
        """The rows without the link buttons Discord would refuse, and those as text lines
        (``label: <url>``; the brackets stop Discord from unfurling the page)."""
        kept: list[tuple[Button, ...]] = []
        lines: list[str] = []
        for row in rows:
            short = tuple(b for b in row if b.url is None or len(b.url) <= LINK_URL_MAX)
            for button in row:
                if button.url is not None and len(button.url) > LINK_URL_MAX:
                    label = self.text(button.label, language)
                    lines.append(f"{label}: <{button.url}>")
            if short:
                kept.append(short)
        return tuple(kept), lines

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


def _with_lines(body: str, lines: list[str], limit: int) -> str:
    """``body`` (clipped) followed by ``lines`` kept whole: a cut URL is worse than none,
    so a line that cannot fit is left out (and logged)."""
    fitting: list[str] = []
    room = limit - 1  # keep at least the ellipsis of the body
    for line in lines:
        if len(line) + 2 <= room:
            fitting.append(line)
            room -= len(line) + 2
        else:
            log.warning("a link of %s characters does not fit a Discord message", len(line))
    if not fitting:
        return _clip(body, limit)
    tail = "\n\n".join(fitting)
    clipped = _clip(body, limit - len(tail) - 2) if body else ""
    return f"{clipped}\n\n{tail}" if clipped else tail


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
