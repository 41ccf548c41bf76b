"""The pledge web app: supporters link a social account and pledge, without JavaScript."""

from bot.web.app import create_web_app

__all__ = ["create_web_app"]
