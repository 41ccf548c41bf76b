"""A message without a hashtag is warned about, not refused: keep it or change it."""

from __future__ import annotations

from bot.dialog import DialogState, Step
from bot.i18n import render
from tests.unit.test_dialog import MESSAGE, act, actions, asked, at_preview, dialog, say

NO_TAG = "Save the bees https://bees.example/act"


def at_warning(message: str = NO_TAG) -> tuple[DialogState, list[str]]:
    d = dialog()
    state = say(d, d.start().state, "Save the bees").state
    reply = say(d, state, message)
    assert reply.state is not None
    return reply.state, [p.key for p in reply.message.parts]


def test_a_message_without_hashtag_is_warned_about_not_refused() -> None:
    d = dialog()
    state = say(d, d.start().state, "Save the bees").state
    reply = say(d, state, f"  {NO_TAG} ")
    assert reply.errors == ()
    assert reply.state is not None and reply.state.step is Step.CONFIRM_MESSAGE
    assert reply.state.message == NO_TAG  # kept, trimmed: nothing typed is lost
    assert asked(reply) == "dialog.no_hashtag"
    assert actions(reply) == ["dlg:keep_message", "dlg:rewrite_message", "dlg:cancel"]
    assert render(reply.message.parts[-1], "en").startswith("⚠️ Trending needs a hashtag")
    assert render(reply.message.parts[-1], "fr").startswith("⚠️ Pour être en tendance")


def test_keeping_it_goes_on_to_the_variants_with_the_message() -> None:
    d = dialog()
    state, _ = at_warning()
    reply = act(d, state, "keep_message")
    assert reply.state is not None and reply.state.step is Step.VARIANTS
    assert reply.state.message == NO_TAG
    assert asked(reply) == "variants.ask"  # the optional variants, then the goal


def test_changing_it_asks_for_the_message_again() -> None:
    d = dialog()
    state, _ = at_warning()
    reply = act(d, state, "rewrite_message")
    assert reply.state is not None and reply.state.step is Step.MESSAGE
    assert asked(reply) == "dialog.ask_message"
    reply = say(d, reply.state, MESSAGE)
    assert reply.state is not None and reply.state.step is Step.VARIANTS


def test_typing_a_new_message_at_the_warning_replaces_it() -> None:
    d = dialog()
    state, _ = at_warning()
    reply = say(d, state, "Now with #bees")
    assert reply.state is not None and reply.state.step is Step.VARIANTS
    assert reply.state.message == "Now with #bees"
    reply = say(d, state, "m" * 600)  # a refused one is explained, and asked again
    assert [e.key for e in reply.errors] == ["message.too_long"]
    assert reply.state is not None and reply.state.step is Step.MESSAGE


def test_a_message_with_a_hashtag_goes_straight_on() -> None:
    d = dialog()
    state = say(d, d.start().state, "Save the bees").state
    for message in (MESSAGE, "#bees", "Bees! #SauvonsLesAbeilles"):
        reply = say(d, state, message)
        assert reply.state is not None and reply.state.step is Step.VARIANTS, message


def test_buttons_of_the_warning_are_stale_elsewhere() -> None:
    d = dialog()
    state = say(d, d.start().state, "Save the bees").state
    reply = act(d, state, "keep_message")
    assert [e.key for e in reply.errors] == ["dialog.stale_button"]
    assert reply.state == state


def test_editing_the_message_from_the_preview_warns_then_returns_to_the_preview() -> None:
    d = dialog()
    state = at_preview(d)
    state = act(d, act(d, state, "edit").state, "edit:message").state
    reply = say(d, state, NO_TAG)
    assert reply.state is not None and reply.state.step is Step.CONFIRM_MESSAGE
    reply = act(d, reply.state, "keep_message")
    assert reply.state is not None and reply.state.step is Step.PREVIEW
    assert reply.state.draft().message == NO_TAG


def test_the_warning_survives_being_stored() -> None:
    state, _ = at_warning()
    assert DialogState.from_dict(state.to_dict()) == state
