"""Routes the core's messages to the right chat front end, and keeps a failing one
from stopping anything else (a blocked user, a platform that is down).

A person who pledged from the public page (``WEB_PLATFORM``) has no chat at all: messages
to them are skipped quietly, and ``reachable`` lets callers count them apart from people a
chat failed to reach."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum

from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import WEB_PLATFORM, ChatRef, MessageRef, UserRef
from bot.ports import ChatFrontEnd, MessageGone, Unreachable

log = logging.getLogger(__name__)


class Edited(StrEnum):
    """What became of an edit: done, failed this time, or never possible again."""

    DONE = "done"
    FAILED = "failed"
    GONE = "gone"


class Reach(StrEnum):
    """What became of a private message: sent, refused for good by the person's settings
    (blocked the bot, closed DMs), or failed this time (the platform, the network)."""

    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


class Notifier:
    """The one notifier interface the core announces through."""

    def __init__(self, front_ends: Iterable[ChatFrontEnd] = ()) -> None:
        """``front_ends``: the outbound side of each chat front end, all known from the start."""
        self._front_ends: dict[str, ChatFrontEnd] = {f.platform: f for f in front_ends}

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._front_ends)

    def front_end(self, platform: str) -> ChatFrontEnd | None:
        return self._front_ends.get(platform)

    def reachable(self, user: UserRef) -> bool:
        """Whether a chat front end can message ``user``: false for a web identity (who
        has no chat) and for a platform this deployment does not run."""
        return user.platform in self._front_ends

    async def send(
        self, chat: ChatRef, message: OutgoingMessage, language: str
    ) -> MessageRef | None:
        front_end = self._front_ends.get(chat.platform)
        if front_end is None:
            if chat.platform == WEB_PLATFORM:  # pledged from the page: nowhere to send
                log.debug("no chat for web identity %s", chat.id)
            else:
                log.warning("no front end for platform %s", chat.platform)
            return None
        try:
            return await front_end.send(chat, message, language)
        except Exception:  # one chat refusing must not stop the others
            log.exception("sending to %s:%s failed", chat.platform, chat.id)
            return None

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> bool:
        return await self.edit_or_gone(ref, message, language) is Edited.DONE

    async def edit_or_gone(
        self, ref: MessageRef, message: OutgoingMessage, language: str
    ) -> Edited:
        """Edit, and say whether the message is gone for good (the caller forgets it)."""
        front_end = self._front_ends.get(ref.chat.platform)
        if front_end is None:
            return Edited.FAILED
        try:
            await front_end.edit(ref, message, language)
        except MessageGone:
            log.info(
                "message %s:%s/%s can no longer be edited", ref.chat.platform, ref.chat.id, ref.id
            )
            return Edited.GONE
        except Exception:
            log.exception("editing %s:%s/%s failed", ref.chat.platform, ref.chat.id, ref.id)
            return Edited.FAILED
        return Edited.DONE

    async def delete(self, ref: MessageRef) -> bool:
        front_end = self._front_ends.get(ref.chat.platform)
        if front_end is None:
            return False
        try:
            await front_end.delete(ref)
        except Exception:
            log.warning(
                "deleting %s:%s/%s failed", ref.chat.platform, ref.chat.id, ref.id, exc_info=True
            )
            return False
        return True

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef | None:
        return (await self._send_privately(user, message))[1]

    async def message_link(self, ref: MessageRef) -> str | None:
        """The front end's web link to a posted message; None if it has none or fails."""
        front_end = self._front_ends.get(ref.chat.platform)
        if front_end is None:
            return None
        try:
            return await front_end.message_link(ref)
        except Exception:
            log.warning(
                "no link to %s:%s/%s", ref.chat.platform, ref.chat.id, ref.id, exc_info=True
            )
            return None

    async def reach_user(self, user: UserRef, message: OutgoingMessage) -> Reach:
        """Send privately, and say whether the person could be reached at all."""
        return (await self._send_privately(user, message))[0]

    async def _send_privately(
        self, user: UserRef, message: OutgoingMessage
    ) -> tuple[Reach, MessageRef | None]:
        front_end = self._front_ends.get(user.platform)
        if front_end is None:
            log.debug("no chat reaches %s:%s; message skipped", user.platform, user.id)
            return Reach.FAILED, None
        try:
            return Reach.SENT, await front_end.send_to_user(user, message)
        except Unreachable:
            log.info("%s:%s cannot be written to privately", user.platform, user.id)
            return Reach.UNREACHABLE, None
        except Exception:
            log.warning("private message to %s:%s failed", user.platform, user.id, exc_info=True)
            return Reach.FAILED, None

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        """Post where every front end's moderators decide; first decision wins."""
        posted: list[MessageRef] = []
        for front_end in self._front_ends.values():
            try:
                posted.extend(await front_end.send_to_moderators(message))
            except Exception:
                log.exception("moderation card on %s failed", front_end.platform)
        return posted
