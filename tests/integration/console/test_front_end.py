"""How the console shows messages: chats, numbered action buttons, links, edits."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest

from adapters.console.front_end import GROUP, MODERATION, ConsoleFrontEnd, persona
from bot.domain.errors import InvalidInput
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import t

CARD = OutgoingMessage.of(
    t("reject.reason_required"),
    buttons=(
        (
            Button(t("button.approve"), action="approve:1"),
            Button(t("button.reject"), action="reject:1"),
        ),
        (Button(t("button.pledge"), url="http://127.0.0.1:8080/pledge/abc"),),
    ),
)


def front(language: str = "en") -> tuple[ConsoleFrontEnd, io.StringIO]:
    out = io.StringIO()
    return ConsoleFrontEnd(out, language, ZoneInfo("UTC")), out


async def test_action_buttons_are_numbered_and_url_buttons_are_links() -> None:
    console, out = front()
    await console.send(GROUP, CARD, "en")
    printed = out.getvalue()
    assert "─── #group · message 1 ───" in printed
    assert "Please give a reason: the organiser will read it." in printed
    assert "[1] Approve   [2] Reject" in printed
    assert "🔗 Pledge my voice: http://127.0.0.1:8080/pledge/abc" in printed
    assert console.action_of("2") == "reject:1"
    assert console.action_of("[1]") == "approve:1"
    with pytest.raises(InvalidInput) as refused:
        console.action_of("3")
    assert refused.value.key == "console.bad_button"


async def test_each_chat_is_named_and_messages_are_in_the_asked_language() -> None:
    console, out = front("fr")
    await console.send_to_moderators(OutgoingMessage.of(t("reject.reason_required")))
    await console.send_to_user(persona("alice", "fr"), OutgoingMessage.of(t("button.cancel")))
    await console.send(GROUP, OutgoingMessage.of(t("button.cancel")), "en")
    printed = out.getvalue()
    assert "─── #moderation · message 1 ───\nDonnez une raison" in printed
    assert "─── privé pour alice · message 2 ───\nAnnuler" in printed
    assert "─── #group · message 3 ───\nCancel" in printed


async def test_an_edit_that_removes_the_buttons_leaves_nothing_to_press() -> None:
    console, out = front()
    ref = await console.send(MODERATION, CARD, "en")
    await console.edit(ref, OutgoingMessage.of(t("button.approve")), "en")
    assert "─── #moderation · message 1 (edited) ───\nApprove" in out.getvalue()
    with pytest.raises(InvalidInput) as refused:
        console.action_of("1")
    assert refused.value.key == "console.no_buttons"


async def test_the_last_message_with_buttons_is_the_one_pressed() -> None:
    console, _ = front()
    await console.send(MODERATION, CARD, "en")
    support = OutgoingMessage.of(
        t("button.support"), buttons=((Button(t("button.support"), action="support:ABC"),),)
    )
    await console.send(GROUP, support, "en")
    await console.send(GROUP, OutgoingMessage.of(t("button.done")), "en")  # no buttons
    assert console.action_of("1") == "support:ABC"
