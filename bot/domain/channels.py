"""Broadcast channels where the bot may post campaign cards, as the chat front end saw them.

A channel is remembered when the bot is made an administrator that may post there, and
forgotten when it is removed or demoted; organisers pick from these to promote a campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.refs import ChatRef


@dataclass(frozen=True)
class KnownChannel:
    chat: ChatRef
    title: str
    username: str  # public @name without the "@", or "" for a private channel
    added_at: datetime
