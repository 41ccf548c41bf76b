"""The console as a chat platform: every chat is a titled block of lines on one terminal.

The "group" (where campaigns are promoted), the "moderation" chat and each persona's
private chat all print to the same output, headed by where they were posted. Action
buttons become numbered choices (``[1] Submit``) that ``/press 1`` or ``1`` presses; URL
buttons are printed as links, since the console has no browser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from adapters.networks.sandbox import SandboxPost
from bot.domain.errors import InvalidInput
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.domain.text import Text, t
from bot.i18n import render

PLATFORM = "console"
GROUP = ChatRef(PLATFORM, "group")
MODERATION = ChatRef(PLATFORM, "moderation")
PRIVATE_PREFIX = "dm:"


def persona(name: str, language: str) -> UserRef:
    """The console user called ``name``: the name is the id, so it is the same person."""
    return UserRef(PLATFORM, name, name, language)


def private_chat(user: UserRef) -> ChatRef:
    return ChatRef(PLATFORM, f"{PRIVATE_PREFIX}{user.id}")


@dataclass(frozen=True)
class Pressable:
    """The numbered action buttons of the last message that had some."""

    message: MessageRef
    actions: tuple[str, ...]


class ConsoleFrontEnd:
    """``ChatFrontEnd`` printing to a text stream."""

    platform = PLATFORM

    def __init__(self, out: TextIO, language: str, tz: ZoneInfo) -> None:
        self.language = language
        self.tz = tz
        self._out = out
        self._ids = itertools.count(1)
        self.pressable: Pressable | None = None

    # the ChatFrontEnd port

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        return self.show(chat, message, language)

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        self._print_block(ref, message, language, edited=True)
        self._remember_buttons(ref, message, edited=True)

    async def delete(self, ref: MessageRef) -> None:
        self.write(self._header(ref, edited=False, language=self.language, deleted=True) + "\n")
        if self.pressable is not None and self.pressable.message == ref:
            self.pressable = None  # its buttons are gone with it

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        return self.show_private(user, message)

    async def message_link(self, ref: MessageRef) -> str | None:
        return None  # the console's messages live on no web page

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        return [self.show(MODERATION, message, self.language)]

    # console helpers

    def show(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        """Print ``message`` in ``chat`` now and return its reference."""
        ref = MessageRef(chat, str(next(self._ids)))
        self._print_block(ref, message, language, edited=False)
        self._remember_buttons(ref, message, edited=False)
        return ref

    def show_private(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        """Print ``message`` in ``user``'s private chat with the bot."""
        return self.show(private_chat(user), message, user.language or self.language)

    def say(self, *texts: Text) -> None:
        """A line from the console itself (not a chat message)."""
        self.write("\n".join(self.render(text) for text in texts))

    def show_post(self, post: SandboxPost) -> None:
        """Listener for the sandbox network: a post has just gone out."""
        self.say(t("console.posted", handle=post.handle, text=post.text))

    def render(self, text: Text, language: str | None = None) -> str:
        return render(text, language or self.language, self.tz)

    def write(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def write_raw(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def action_of(self, number_text: str) -> str:
        """The action of button ``number_text`` of the last message with buttons."""
        pressable = self.pressable
        if pressable is None or not pressable.actions:
            raise InvalidInput("console.no_buttons")
        try:
            number = int(number_text.strip().lstrip("[").rstrip("]"))
        except ValueError:
            raise InvalidInput(
                "console.bad_button", value=number_text.strip()[:20], count=len(pressable.actions)
            ) from None
        if not 1 <= number <= len(pressable.actions):
            raise InvalidInput(
                "console.bad_button", value=str(number), count=len(pressable.actions)
            )
        return pressable.actions[number - 1]

    # rendering

    def _header(
        self, ref: MessageRef, edited: bool, language: str, *, deleted: bool = False
    ) -> str:
        chat = ref.chat
        if chat == GROUP:
            where = t("console.chat_group")
        elif chat == MODERATION:
            where = t("console.chat_moderation")
        else:
            where = t("console.chat_private", name=chat.id.removeprefix(PRIVATE_PREFIX))
        key = "console.header_edited" if edited else "console.header"
        if deleted:
            key = "console.header_deleted"
        return self.render(t(key, where=where, id=ref.id), language)

    def _print_block(
        self, ref: MessageRef, message: OutgoingMessage, language: str, *, edited: bool
    ) -> None:
        lines = [self._header(ref, edited, language)]
        lines.extend(self.render(part, language) for part in message.parts)
        number = 0
        for row in message.buttons:
            choices: list[str] = []
            for button in row:
                label = self.render(button.label, language)
                if button.url is not None:
                    lines.append(self.render(t("console.link", label=label, url=button.url)))
                elif button.action is not None:
                    number += 1
                    choices.append(f"[{number}] {label}")
            if choices:
                lines.append("   " + "   ".join(choices))
        self.write("\n".join(lines) + "\n")

    def _remember_buttons(
        self, ref: MessageRef, message: OutgoingMessage, *, edited: bool
    ) -> None:
        actions = tuple(
            button.action
            for row in message.buttons
            for button in row
            if button.url is None and button.action is not None
        )
        if actions:
            self.pressable = Pressable(ref, actions)
        elif edited and self.pressable is not None and self.pressable.message == ref:
            self.pressable = None  # its buttons are gone
