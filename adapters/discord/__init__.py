"""The Discord front end (discord.py 2.x): slash commands, modals and persistent buttons."""
