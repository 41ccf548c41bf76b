"""The forms Discord shows: the campaign form and the moderator's reject reason.

Modals are only built and sent here; their submissions are read back from the raw
interaction data (``submitted_values``) by the handlers, keyed by the modal's custom
id, so a form opened before a restart is still understood after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import discord

from bot.domain.campaign import STORY_MAX, TITLE_MAX

CAMPAIGN_MODAL_PREFIX = "chorus:modal:campaign:"
REJECT_MODAL_PREFIX = "chorus:modal:reject:"
STORY_MODAL_ID = "chorus:modal:story"
CHANGES_MODAL_PREFIX = "chorus:modal:changes:"
# in the dialog's order; "variants" (optional): other wordings, one per blank-line block
FORM_FIELDS = ("title", "message", "variants", "goal", "launch")
MODAL_TITLE_MAX = 45
LABEL_MAX = 45

Translate = Callable[[str], str]


def _field(
    translate: Translate,
    *,
    key: str,
    label_key: str,
    hint_key: str,
    default: str | None,
    style: discord.TextStyle = discord.TextStyle.short,
    max_length: int,
    placeholder: str | None = None,
    required: bool = True,
) -> discord.ui.Label[Any]:
    return discord.ui.Label(
        text=translate(label_key)[:LABEL_MAX],
        description=translate(hint_key)[:100],
        component=discord.ui.TextInput(
            custom_id=key,
            style=style,
            default=default,
            required=required,
            max_length=max_length,
            placeholder=placeholder,
        ),
    )


class CampaignModal(discord.ui.Modal):
    """Title, message, other wordings (optional), goal and launch moment in one form
    (Discord's five fields at most); prefilled when fixing. The story comes after the
    networks in its own form (``StoryModal``); the picture cannot be asked in a form at
    all (a modal takes no file), so it comes with ``/campaignpicture`` at the picture step."""

    def __init__(
        self,
        translate: Translate,
        timezone: str,
        values: Mapping[str, str] | None = None,
        *,
        mode: str = "new",
    ) -> None:
        super().__init__(
            title=translate("discord.form.title")[:MODAL_TITLE_MAX],
            custom_id=f"{CAMPAIGN_MODAL_PREFIX}{mode}",
            timeout=None,
        )
        values = values or {}
        self.add_item(
            _field(
                translate,
                key="title",
                label_key="field.title",
                hint_key="discord.form.title_hint",
                default=values.get("title"),
                # longer than the rule, so an over-long title gets our clear message
                max_length=TITLE_MAX * 2,
            )
        )
        self.add_item(
            _field(
                translate,
                key="message",
                label_key="field.message",
                hint_key="discord.form.message_hint",
                default=values.get("message"),
                style=discord.TextStyle.paragraph,
                max_length=2000,
            )
        )
        self.add_item(
            _field(
                translate,
                key="variants",
                label_key="field.variants",
                hint_key="variants.discord_hint",
                default=values.get("variants") or None,
                style=discord.TextStyle.paragraph,
                max_length=4000,
                required=False,
            )
        )
        self.add_item(
            _field(
                translate,
                key="goal",
                label_key="field.goal",
                hint_key="discord.form.goal_hint",
                default=values.get("goal"),
                max_length=20,
                placeholder="100",
            )
        )
        self.add_item(
            _field(
                translate,
                key="launch",
                label_key="field.launch",
                hint_key="discord.form.launch_hint",
                default=values.get("launch"),
                max_length=40,
                placeholder=f"2030-03-08 18:00 ({timezone})",
            )
        )


class StoryModal(discord.ui.Modal):
    """The optional story, in a form of its own: the campaign form is full (Discord's
    five fields). Opened from the story step or the preview, prefilled with the draft's
    story; left empty, it skips the story (or removes it)."""

    def __init__(self, translate: Translate, story: str | None) -> None:
        super().__init__(
            title=translate("discord.story.title")[:MODAL_TITLE_MAX],
            custom_id=STORY_MODAL_ID,
            timeout=None,
        )
        self.add_item(
            _field(
                translate,
                key="story",
                label_key="field.story",
                hint_key="discord.form.story_hint",
                default=story or None,
                style=discord.TextStyle.paragraph,
                max_length=min(4000, STORY_MAX * 2),  # longer: our message says the limit
                required=False,
            )
        )


class RejectModal(discord.ui.Modal):
    """The reason a moderator gives; the organiser reads it."""

    def __init__(self, translate: Translate, campaign_id: int) -> None:
        super().__init__(
            title=translate("discord.reject.title")[:MODAL_TITLE_MAX],
            custom_id=f"{REJECT_MODAL_PREFIX}{campaign_id}",
            timeout=None,
        )
        self.add_item(
            _field(
                translate,
                key="reason",
                label_key="discord.reject.reason_label",
                hint_key="discord.reject.reason_hint",
                default=None,
                style=discord.TextStyle.paragraph,
                max_length=500,
            )
        )


class ChangesModal(discord.ui.Modal):
    """The changes a moderator asks of the organiser, who reads this note."""

    def __init__(self, translate: Translate, campaign_id: int) -> None:
        super().__init__(
            title=translate("discord.changes.title")[:MODAL_TITLE_MAX],
            custom_id=f"{CHANGES_MODAL_PREFIX}{campaign_id}",
            timeout=None,
        )
        self.add_item(
            _field(
                translate,
                key="note",
                label_key="discord.changes.note_label",
                hint_key="discord.changes.note_hint",
                default=None,
                style=discord.TextStyle.paragraph,
                max_length=500,
            )
        )


def submitted_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """``{custom_id: value}`` of a modal submission (Label or action-row layout)."""
    values: dict[str, str] = {}

    def walk(components: Any) -> None:
        for component in components or ():
            if component.get("type") == 1:
                walk(component.get("components"))
            elif component.get("type") == 18:
                walk([component.get("component") or {}])
            elif "custom_id" in component:
                values[str(component["custom_id"])] = str(component.get("value") or "")

    walk((data or {}).get("components"))
    return values
