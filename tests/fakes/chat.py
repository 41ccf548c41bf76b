"""An in-memory chat front end: the core's ports implemented by a recorder.

It is a real front end of its own kind (like errbot's test backend), used by unit
tests of the core; the Telegram and Discord tests use their platforms' wire fakes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.i18n import render
from bot.ports import Unreachable


@dataclass
class Sent:
    where: str  # "chat:<id>", "user:<id>", "moderators", "edit:<chat>/<id>"
    message: OutgoingMessage
    language: str
    ref: MessageRef | None = None

    @property
    def text(self) -> str:
        return "\n".join(render(part, self.language) for part in self.message.parts)

    @property
    def keys(self) -> list[str]:
        return [part.key for part in self.message.parts]

    @property
    def actions(self) -> list[str]:
        return [b.action or b.url or "" for row in self.message.buttons for b in row]


@dataclass
class RecordingFrontEnd:
    platform: str = "test"
    moderation_chat: str | None = "mods"
    refuse_users: set[str] = field(default_factory=set)
    refuse_chats: set[str] = field(default_factory=set)  # chats the bot cannot write in
    sent: list[Sent] = field(default_factory=list)
    deleted: list[MessageRef] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        if chat.id in self.refuse_chats:
            raise RuntimeError("Forbidden: the bot cannot write in this chat")
        ref = MessageRef(chat, str(next(self._ids)))
        self.sent.append(Sent(f"chat:{chat.id}", message, language, ref))
        return ref

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        self.sent.append(Sent(f"edit:{ref.chat.id}/{ref.id}", message, language, ref))

    async def delete(self, ref: MessageRef) -> None:
        self.deleted.append(ref)

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        if user.id in self.refuse_users:
            raise Unreachable("Forbidden: bot was blocked by the user")
        ref = MessageRef(ChatRef(self.platform, user.id), str(next(self._ids)))
        self.sent.append(Sent(f"user:{user.id}", message, user.language, ref))
        return ref

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        if self.moderation_chat is None:
            return []
        ref = MessageRef(ChatRef(self.platform, self.moderation_chat), str(next(self._ids)))
        self.sent.append(Sent("moderators", message, "en", ref))
        return [ref]

    async def message_link(self, ref: MessageRef) -> str | None:
        return f"https://chat.example/{ref.chat.id}/{ref.id}"

    def to(self, where: str) -> list[Sent]:
        return [s for s in self.sent if s.where == where]

    def keys_to(self, where: str) -> list[str]:
        return [key for s in self.to(where) for key in s.keys]
