"""The broadcast channels a chat front end may promote campaigns in.

A front end tells this service when the bot became an administrator that may post in a
channel, and when it lost that right; organisers then pick from what is remembered here.
Forgetting a channel also forgets the cards posted there, so progress edits and
announcements stop trying a chat the bot can no longer write to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.channels import KnownChannel
from bot.domain.refs import ChatRef
from bot.ports import Clock, Repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelDirectory:
    repo: Repository
    clock: Clock

    async def remember(self, chat: ChatRef, title: str, username: str = "") -> KnownChannel:
        """The bot may post in ``chat`` (a channel): keep it, with its current name."""
        channel = KnownChannel(chat, title, username.removeprefix("@"), self.clock.now())
        await self.repo.save_channel(channel)
        return channel

    async def forget(self, chat: ChatRef) -> int:
        """The bot left ``chat`` or may no longer post there; return the cards dropped."""
        dropped = await self.repo.forget_channel(chat)
        log.info("channel %s:%s forgotten with %d card(s)", chat.platform, chat.id, dropped)
        return dropped

    async def known(self, platform: str) -> list[KnownChannel]:
        return await self.repo.channels_on(platform)
