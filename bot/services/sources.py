"""Where a pledge came from: the chat whose campaign card's Support button was pressed.

A chat front end hands the chat it saw (Discord: the channel of the button press;
Telegram: the group named in the card's deep link, which anyone can type, so it is only
believed when the campaign has a card in that chat). The chat rides in the signed pledge
link and is stored with the pledge, so ``/stats`` can say which chats brought supporters.
Anything that does not check out is dropped silently: the source is then unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.campaign import Campaign
from bot.domain.cards import CardKind
from bot.domain.refs import ChatRef
from bot.ports import Repository

CHAT_MARK = "_c"  # ``REF_c<chat id>`` in a start payload: the card's chat
TITLE_KEPT = 64  # characters of a chat title carried and stored
_CHAT_ID_RE = re.compile(r"-?[0-9]{1,20}")


@dataclass(frozen=True)
class ChatSource:
    """A chat a supporter came from, and its title when the front end knew it."""

    chat: ChatRef
    title: str = ""

    @property
    def key(self) -> str:
        return f"{self.chat.platform}:{self.chat.id}"


def with_chat(payload: str, chat_id: str) -> str:
    """A start payload naming the chat its card is in: ``REF_c<chat id>``."""
    return f"{payload}{CHAT_MARK}{chat_id}"


def split_chat(payload: str) -> tuple[str, str | None]:
    """``REF_c<chat id>`` as (``REF``, chat id); anything else unchanged with None.

    Recruit codes (``REF_CODE``) are upper-case base32, so the lower-case mark cannot
    be mistaken for one; a malformed chat id is dropped along with its mark.
    """
    head, mark, tail = payload.rpartition(CHAT_MARK)
    if not mark or not head:
        return payload, None
    return head, tail if _CHAT_ID_RE.fullmatch(tail) else None


async def checked_source(
    repo: Repository, campaign: Campaign, source: ChatSource | None
) -> ChatSource | None:
    """``source`` when the campaign's card is promoted in that chat, else None (forged,
    stale, or the moderators' chat)."""
    if source is None or campaign.id is None:
        return None
    cards = await repo.cards_of(campaign.id, CardKind.PROMOTION)
    if not any(card.message.chat == source.chat for card in cards):
        return None
    title = source.title.strip()[:TITLE_KEPT]
    if not title:
        known = await repo.channels_on(source.chat.platform)
        title = next((c.title for c in known if c.chat == source.chat), "")[:TITLE_KEPT]
    return ChatSource(source.chat, title)
