"""The Discord front end (discord.py 2.x): slash commands, modals and persistent buttons."""

from adapters.discord.front_end import DiscordFrontEnd

__all__ = ["DiscordFrontEnd"]
