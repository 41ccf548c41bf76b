"""``/stats`` on Discord: the campaign's chart as a file attachment with its figures, or
(``export: csv``) the figures as a CSV attachment, in an ephemeral answer only the caller
sees.

The organiser may ask, and moderators (Manage Server or the moderator role); the rules
and the figures are the core's ``StatsService``.
"""

from __future__ import annotations

import io
import logging

import discord

from adapters.discord.handlers import InteractionHandlers
from adapters.discord.identity import is_moderator
from bot.domain.errors import DomainError
from bot.domain.outgoing import OutgoingMessage
from bot.domain.text import t
from bot.services.stats import chart_png, figures_csv, figures_message

log = logging.getLogger(__name__)

CSV_EXPORT = "csv"


class StatsCommand:
    def __init__(self, handlers: InteractionHandlers) -> None:
        self.handlers = handlers
        self.services = handlers.services

    async def stats(self, interaction: discord.Interaction, ref: str, export: str | None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        language = self.handlers.language(interaction)
        renderer = self.handlers.renderer
        settings = self.services.settings
        may_moderate = is_moderator(
            interaction, settings.discord_moderator_role_id, settings.discord_moderator_ids
        )
        try:
            figures = await self.services.stats.figures(
                ref, self.handlers.who(interaction), may_moderate=may_moderate
            )
            campaign_ref = figures.campaign.ref
            if export == CSV_EXPORT:
                message = OutgoingMessage.of(t("stats.csv_caption", ref=campaign_ref))
                data, name = figures_csv(figures), f"chorus-{campaign_ref}.csv"
            else:
                message = figures_message(figures)
                data, name = await chart_png(figures, language), f"chorus-{campaign_ref}.png"
        except DomainError as exc:
            refusal = renderer.as_content(OutgoingMessage.of(exc.text), language)
            await interaction.edit_original_response(content=refusal.content)
            return
        content = renderer.as_content(message, language).content
        attachment = discord.File(io.BytesIO(data), filename=name)
        await interaction.edit_original_response(content=content, attachments=[attachment])
