"""The notifier routes by platform, and one failing front end never stops the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from bot.blast.notices import send_each
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import WEB_PLATFORM, ChatRef, MessageRef, UserRef
from bot.domain.text import t
from bot.notifier import Edited, Notifier
from bot.ports import MessageGone
from tests.fakes.chat import RecordingFrontEnd

HELLO = OutgoingMessage.of(t("button.support"))


@dataclass
class BrokenFrontEnd:
    """A platform that is down: every call raises."""

    platform: str = "broken"
    calls: int = 0

    def _fail(self) -> None:
        self.calls += 1
        raise ConnectionError("platform unreachable")

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        self._fail()
        raise AssertionError

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        self._fail()

    async def delete(self, ref: MessageRef) -> None:
        self._fail()

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        self._fail()
        raise AssertionError

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        self._fail()
        return []

    async def message_link(self, ref: MessageRef) -> str | None:
        self._fail()
        return None


async def test_moderation_cards_go_to_every_front_end_that_works() -> None:
    broken, working = BrokenFrontEnd(), RecordingFrontEnd(platform="ok")
    quiet = RecordingFrontEnd(platform="quiet", moderation_chat=None)
    notifier = Notifier([broken, working, quiet])
    posted = await notifier.send_to_moderators(HELLO)
    assert posted == [working.sent[0].ref]
    assert broken.calls == 1 and quiet.sent == []


async def test_a_failing_front_end_returns_nothing_and_raises_nothing() -> None:
    broken = BrokenFrontEnd()
    notifier = Notifier([broken, RecordingFrontEnd(platform="ok")])
    assert await notifier.send(ChatRef("broken", "1"), HELLO, "en") is None
    assert await notifier.send_to_user(UserRef("broken", "1"), HELLO) is None
    assert await notifier.edit(MessageRef(ChatRef("broken", "1"), "9"), HELLO, "en") is False
    assert await notifier.delete(MessageRef(ChatRef("broken", "1"), "9")) is False
    assert broken.calls == 4


async def test_messages_are_routed_by_platform() -> None:
    a, b = RecordingFrontEnd(platform="a"), RecordingFrontEnd(platform="b")
    notifier = Notifier([a, b])
    ref = await notifier.send(ChatRef("b", "chat"), HELLO, "fr")
    assert ref is not None and ref.chat == ChatRef("b", "chat")
    await notifier.send_to_user(UserRef("a", "7", language="fr"), HELLO)
    assert await notifier.edit(ref, HELLO, "fr") is True
    assert await notifier.delete(ref) is True
    assert b.deleted == [ref] and a.deleted == []
    assert [s.where for s in a.sent] == ["user:7"]
    assert [s.where for s in b.sent] == ["chat:chat", f"edit:chat/{ref.id}"]
    assert a.sent[0].language == "fr"


async def test_a_blocked_user_does_not_raise() -> None:
    front = RecordingFrontEnd(refuse_users={"7"})
    notifier = Notifier([front])
    assert await notifier.send_to_user(UserRef("test", "7"), HELLO) is None
    assert await notifier.send_to_user(UserRef("test", "8"), HELLO) is not None


async def test_unknown_platform_is_skipped() -> None:
    notifier = Notifier([RecordingFrontEnd()])
    assert notifier.platforms == ("test",)
    assert await notifier.send(ChatRef("matrix", "1"), HELLO, "en") is None
    assert await notifier.send_to_user(UserRef("matrix", "1"), HELLO) is None
    assert await notifier.edit(MessageRef(ChatRef("matrix", "1"), "2"), HELLO, "en") is False
    assert notifier.front_end("matrix") is None


@dataclass
class ForgetfulFrontEnd(RecordingFrontEnd):
    """A platform that no longer knows the message ``gone``."""

    gone: str = ""

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        if ref.id == self.gone:
            raise MessageGone("message to edit not found")
        await super().edit(ref, message, language)


async def test_an_edit_says_whether_the_message_is_gone_for_good() -> None:
    forgetful = ForgetfulFrontEnd(platform="ok", gone="9")
    notifier = Notifier([forgetful, BrokenFrontEnd()])
    chat = ChatRef("ok", "1")
    assert await notifier.edit_or_gone(MessageRef(chat, "9"), HELLO, "en") is Edited.GONE
    assert await notifier.edit_or_gone(MessageRef(chat, "8"), HELLO, "en") is Edited.DONE
    broken = MessageRef(ChatRef("broken", "1"), "9")
    assert await notifier.edit_or_gone(broken, HELLO, "en") is Edited.FAILED
    unknown = MessageRef(ChatRef("nowhere", "1"), "9")
    assert await notifier.edit_or_gone(unknown, HELLO, "en") is Edited.FAILED
    assert await notifier.edit(MessageRef(chat, "9"), HELLO, "en") is False


async def test_a_web_identity_has_no_chat_and_is_skipped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    working = RecordingFrontEnd(platform="ok")
    notifier = Notifier([working])
    web = UserRef(WEB_PLATFORM, "w3b-0123456789")

    assert notifier.reachable(UserRef("ok", "1")) and not notifier.reachable(web)
    with caplog.at_level(logging.DEBUG, logger="bot.notifier"):
        assert await notifier.send_to_user(web, HELLO) is None
        assert await notifier.send(ChatRef(WEB_PLATFORM, web.id), HELLO, "en") is None
    assert working.sent == []
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]


async def test_a_chat_platform_without_a_front_end_is_still_worth_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = Notifier([RecordingFrontEnd(platform="ok")])
    with caplog.at_level(logging.WARNING, logger="bot.notifier"):
        assert await notifier.send(ChatRef("elsewhere", "1"), HELLO, "en") is None
    assert [r.getMessage() for r in caplog.records] == ["no front end for platform elsewhere"]


async def test_send_each_counts_only_people_a_chat_reaches() -> None:
    working = RecordingFrontEnd(platform="ok")
    notifier = Notifier([working])
    people = [UserRef("ok", "1"), UserRef(WEB_PLATFORM, "w3b-0123456789"), UserRef("ok", "2")]

    told = await send_each(notifier, ((p, HELLO) for p in people), concurrency=2)

    assert told == 2 and len(working.sent) == 2
