"""Telling the chats a campaign was promoted in: one place for the blast and the pledges.

Built before the campaign service and the blast, both of which announce through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.cards import CardKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef
from bot.notifier import Notifier
from bot.ports import Repository


@dataclass(frozen=True)
class Announcer:
    """Posts a message in every chat a campaign was promoted in, in each card's language."""

    repo: Repository
    notifier: Notifier

    async def promoted_chats(self, campaign_id: int) -> list[tuple[ChatRef, str]]:
        """Chats the campaign was promoted in, with the language of each card."""
        return [(chat, language) for _, chat, language in await self.promoted(campaign_id)]

    async def promoted(self, campaign_id: int) -> list[tuple[int, ChatRef, str]]:
        """Each chat the campaign was promoted in, with the id of its first card (which
        stands for the chat in a once-only claim) and that card's language."""
        seen: dict[ChatRef, tuple[int, str]] = {}
        for card in await self.repo.cards_of(campaign_id, CardKind.PROMOTION):
            if card.id is not None:
                seen.setdefault(card.message.chat, (card.id, card.language))
        return [(card_id, chat, language) for chat, (card_id, language) in seen.items()]

    async def announce(self, campaign_id: int, message: OutgoingMessage) -> None:
        for chat, language in await self.promoted_chats(campaign_id):
            await self.notifier.send(chat, message, language)
