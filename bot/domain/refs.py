"""Platform-neutral references to people, chats and messages.

The platform is part of every id (``ChatRef("telegram", "-1001234")``), so one core
can serve Telegram, Discord and the console at once.
"""

from __future__ import annotations

from dataclasses import dataclass

# The platform of a person who pledged from the public campaign page: no chat reaches them.
WEB_PLATFORM = "web"


@dataclass(frozen=True)
class UserRef:
    """A person on one chat platform."""

    platform: str
    id: str
    name: str = ""
    language: str = "en"

    @property
    def key(self) -> str:
        """Stable identity, independent of display name and language."""
        return f"{self.platform}:{self.id}"

    def same_person(self, other: UserRef) -> bool:
        return self.platform == other.platform and self.id == other.id


@dataclass(frozen=True)
class ChatRef:
    """A group, channel or private chat on one chat platform."""

    platform: str
    id: str


@dataclass(frozen=True)
class MessageRef:
    """A message the bot posted, so it can be edited later."""

    chat: ChatRef
    id: str
