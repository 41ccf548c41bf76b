"""The slash commands, with descriptions in every catalogue language.

Descriptions are ``locale_str``s carrying their catalogue key; ``CatalogueTranslator``
gives Discord the other languages at sync time, so Discord shows each person the
command list in their client's language.
"""

from __future__ import annotations

import discord
from discord import app_commands

from adapters.discord.handlers import InteractionHandlers
from adapters.discord.stats import StatsCommand
from bot.domain.edits import FIELDS
from bot.i18n import FALLBACK, gettext, supported_languages


def _described(key: str) -> app_commands.locale_str:
    return app_commands.locale_str(gettext(key, FALLBACK), key=key)


class CatalogueTranslator(app_commands.Translator):
    """Looks command texts up in ``bot/locales`` by the key their ``locale_str`` carries."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        language = str(locale).split("-")[0].lower()
        if key is None or language == FALLBACK or language not in supported_languages():
            return None
        return gettext(key, language)


def build_tree(client: discord.Client, handlers: InteractionHandlers) -> app_commands.CommandTree:
    tree: app_commands.CommandTree = app_commands.CommandTree(client)
    ref_param = _described("discord.command.param_ref")

    @tree.command(name="newcampaign", description=_described("discord.command.newcampaign"))
    async def newcampaign(interaction: discord.Interaction) -> None:
        await handlers.new_campaign(interaction)

    @tree.command(name="mycampaigns", description=_described("discord.command.mycampaigns"))
    async def mycampaigns(interaction: discord.Interaction) -> None:
        await handlers.my_campaigns(interaction)

    @tree.command(name="cancelcampaign", description=_described("discord.command.cancelcampaign"))
    @app_commands.describe(ref=ref_param)
    async def cancelcampaign(interaction: discord.Interaction, ref: str) -> None:
        await handlers.cancel_campaign(interaction, ref)

    @tree.command(name="update", description=_described("discord.command.update"))
    @app_commands.describe(ref=ref_param, text=_described("discord.command.param_text"))
    async def update(interaction: discord.Interaction, ref: str, text: str) -> None:
        await handlers.send_update(interaction, ref, text)

    stats_command = StatsCommand(handlers)

    @tree.command(name="stats", description=_described("discord.command.stats"))
    @app_commands.describe(ref=ref_param, export=_described("discord.command.param_export"))
    @app_commands.choices(
        export=[app_commands.Choice(name=_described("discord.command.export_csv"), value="csv")]
    )
    async def stats(
        interaction: discord.Interaction, ref: str, export: app_commands.Choice[str] | None = None
    ) -> None:
        await stats_command.stats(interaction, ref, export.value if export else None)

    @tree.command(name="editcampaign", description=_described("discord.command.editcampaign"))
    @app_commands.describe(
        ref=ref_param,
        field=_described("discord.command.param_field"),
        value=_described("discord.command.param_value"),
    )
    @app_commands.choices(field=[app_commands.Choice(name=name, value=name) for name in FIELDS])
    async def editcampaign(
        interaction: discord.Interaction,
        ref: str,
        field: str | None = None,
        value: str | None = None,
    ) -> None:
        await handlers.edit_campaign(interaction, ref, field, value)

    @tree.command(name="resubmit", description=_described("discord.command.resubmit"))
    @app_commands.describe(ref=ref_param)
    async def resubmit(interaction: discord.Interaction, ref: str) -> None:
        await handlers.resubmit(interaction, ref)

    @tree.command(name="promote", description=_described("discord.command.promote"))
    @app_commands.describe(ref=ref_param)
    @app_commands.guild_only()
    async def promote(interaction: discord.Interaction, ref: str) -> None:
        await handlers.promote(interaction, ref)

    @tree.command(name="setinvite", description=_described("discord.command.setinvite"))
    @app_commands.describe(ref=ref_param, url=_described("discord.command.param_invite"))
    async def setinvite(interaction: discord.Interaction, ref: str, url: str) -> None:
        await handlers.set_invite(interaction, ref, url)

    @tree.command(name="pending", description=_described("discord.command.pending"))
    async def pending(interaction: discord.Interaction) -> None:
        await handlers.pending(interaction)

    @tree.command(name="mypledges", description=_described("discord.command.mypledges"))
    async def mypledges(interaction: discord.Interaction) -> None:
        await handlers.my_pledges(interaction)

    @tree.command(name="unpledge", description=_described("discord.command.unpledge"))
    @app_commands.describe(ref=ref_param)
    async def unpledge(interaction: discord.Interaction, ref: str) -> None:
        await handlers.unpledge(interaction, ref)

    @tree.command(name="forget", description=_described("discord.command.forget"))
    async def forget(interaction: discord.Interaction) -> None:
        await handlers.forget(interaction)

    @tree.command(
        name="campaignpicture", description=_described("discord.command.campaignpicture")
    )
    @app_commands.describe(image=_described("discord.command.param_image"))
    async def campaignpicture(interaction: discord.Interaction, image: discord.Attachment) -> None:
        await handlers.campaign_picture(interaction, image)

    @tree.command(name="status", description=_described("discord.command.status"))
    @app_commands.describe(ref=ref_param)
    async def status(interaction: discord.Interaction, ref: str) -> None:
        await handlers.status(interaction, ref)

    @tree.command(name="help", description=_described("discord.command.help"))
    async def help_(interaction: discord.Interaction) -> None:
        await handlers.help(interaction)

    return tree
