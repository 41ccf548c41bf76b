"""The one persistent button: ``chorus:<action>``, answered even after a restart.

discord.py rebuilds an ``ActionButton`` from the custom id of any pressed button that
matches the template (``DynamicItem``), so no view has to be kept in memory and cards
posted weeks ago keep working. The press is dispatched as the client's
``on_chorus_button`` event, which the inbound side of the front end handles.
"""

from __future__ import annotations

from typing import Any

import discord

CUSTOM_ID_PREFIX = "chorus:"
CUSTOM_ID_MAX = 100
BUTTON_EVENT = "chorus_button"


def custom_id(action: str) -> str:
    """The stable custom id of an action (``support:K7QX2M`` → ``chorus:support:K7QX2M``)."""
    value = CUSTOM_ID_PREFIX + action
    if len(value) > CUSTOM_ID_MAX:
        raise ValueError(f"action too long for a Discord custom id: {action[:40]}…")
    return value


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"chorus:(?P<action>[!-~]{1,93})",
):
    def __init__(
        self,
        action: str,
        *,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(label=label or None, style=style, custom_id=custom_id(action)),
            row=row,
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> ActionButton:
        label = getattr(item, "label", None) or ""
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(match["action"], label=label, style=style)

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        interaction.client.dispatch(BUTTON_EVENT, interaction, self.action)
