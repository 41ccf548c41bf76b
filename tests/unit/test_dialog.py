"""The /newcampaign dialog as a pure state machine: every step, every wrong answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.networks.mastodon import MASTODON, MASTODON_SPEC
from adapters.networks.sandbox import SANDBOX_SPEC
from adapters.networks.x import X_SPEC, X
from bot.dialog import (
    ACTION_PREFIX,
    DialogReply,
    DialogRules,
    DialogState,
    NewCampaignDialog,
    Step,
)
from bot.domain.networks import Network
from bot.domain.text import Text

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
BOTH = (X, MASTODON)
MESSAGE = "Save the bees #bees https://bees.example/act"
SKIP = "<skip the variants>"  # ``say`` presses Skip on the optional variants step


SPECS = {spec.id: spec for spec in (X_SPEC, MASTODON_SPEC, SANDBOX_SPEC)}


def rules(networks: tuple[Network, ...] = BOTH, now: datetime = NOW) -> DialogRules:
    offered = tuple(SPECS[n] for n in networks)
    return DialogRules(now=now, tz=PARIS, min_lead=timedelta(minutes=60), offered=offered)


def dialog(networks: tuple[Network, ...] = BOTH, now: datetime = NOW) -> NewCampaignDialog:
    return NewCampaignDialog(rules(networks, now))


def asked(reply: DialogReply) -> str:
    """The question key of a reply (its last part)."""
    return reply.message.parts[-1].key


def actions(reply: DialogReply) -> list[str]:
    return [b.action or "" for row in reply.message.buttons for b in row]


def act(d: NewCampaignDialog, state: DialogState | None, name: str) -> DialogReply:
    assert state is not None
    return d.handle_action(state, ACTION_PREFIX + name)


def say(d: NewCampaignDialog, state: DialogState | None, text: str) -> DialogReply:
    assert state is not None
    if text == SKIP:
        assert state.step is Step.VARIANTS
        return d.handle_action(state, ACTION_PREFIX + "variants_done")
    return d.handle_text(state, text)


def at_networks(d: NewCampaignDialog, message: str = MESSAGE) -> DialogState:
    state = d.start().state
    for text in ("Save the bees", message, SKIP, "100", "2030-01-20 18:00"):
        state = say(d, state, text).state
    assert state is not None and state.step is Step.NETWORKS
    return state


def skip_extras(d: NewCampaignDialog, reply: DialogReply) -> DialogReply:
    """Skip the optional story and picture steps."""
    assert reply.state is not None and reply.state.step is Step.STORY
    reply = act(d, reply.state, "skip")
    assert reply.state is not None and reply.state.step is Step.PICTURE
    return act(d, reply.state, "skip")


def at_preview(d: NewCampaignDialog) -> DialogState:
    state = at_networks(d)
    state = act(d, state, "net:mastodon").state
    reply = skip_extras(d, act(d, state, "networks_done"))
    assert reply.state is not None and reply.state.step is Step.PREVIEW
    return reply.state


def test_happy_path_through_every_step() -> None:
    d = dialog()
    reply = d.start()
    assert (reply.state.step, asked(reply)) == (Step.TITLE, "dialog.ask_title")
    assert actions(reply) == ["dlg:cancel"]

    reply = say(d, reply.state, "  Save   the bees ")
    assert (reply.state.title, asked(reply)) == ("Save the bees", "dialog.ask_message")
    # Both networks are possible, so the prompt states the strictest limit.
    assert reply.message.parts[-1].params == {"limit": 280}

    reply = say(d, reply.state, f"  {MESSAGE} ")
    assert (reply.state.message, asked(reply)) == (MESSAGE, "variants.ask")
    assert actions(reply) == ["dlg:variants_done", "dlg:cancel"]

    reply = say(d, reply.state, SKIP)
    assert (reply.state.variants, asked(reply)) == ((), "dialog.ask_goal")

    reply = say(d, reply.state, "1,000")
    assert (reply.state.goal, asked(reply)) == (1000, "dialog.ask_launch")
    assert reply.message.parts[-1].params == {"minutes": 60, "timezone": "Europe/Paris"}

    reply = say(d, reply.state, "2030-01-20 18:00")
    assert reply.state.launch_at == datetime(2030, 1, 20, 17, 0, tzinfo=UTC)
    assert asked(reply) == "dialog.ask_networks"
    assert actions(reply) == ["dlg:net:x", "dlg:net:mastodon", "dlg:networks_done", "dlg:cancel"]

    reply = act(d, reply.state, "net:mastodon")
    assert reply.state.networks == (MASTODON,)
    labels = [b.label for row in reply.message.buttons for b in row]
    assert labels[1].params["mark"] == "✅ " and labels[0].params["mark"] == ""

    reply = act(d, reply.state, "net:x")
    assert reply.state.networks == BOTH  # kept in the platform's order

    reply = act(d, reply.state, "net:x")  # toggled off again
    assert reply.state.networks == (MASTODON,)

    reply = act(d, reply.state, "networks_done")
    assert (reply.state.step, asked(reply)) == (Step.STORY, "dialog.ask_story")
    assert actions(reply) == ["dlg:skip", "dlg:cancel"]
    reply = skip_extras(d, reply)
    assert (reply.state.step, asked(reply)) == (Step.PREVIEW, "dialog.preview")
    preview = reply.message.parts[-1].params
    assert preview["title"] == "Save the bees"
    assert preview["message"] == MESSAGE
    assert preview["goal"] == Text("goal.count", {"goal": 1000})
    assert preview["networks"] == "mastodon"
    assert actions(reply) == ["dlg:submit", "dlg:edit", "dlg:cancel"]

    reply = act(d, reply.state, "submit")
    assert reply.state is None and not reply.cancelled
    draft = reply.submitted
    assert draft is not None
    assert (draft.title, draft.message, draft.goal, draft.networks) == (
        "Save the bees",
        MESSAGE,
        1000,
        (MASTODON,),
    )
    assert draft.launch_at == datetime(2030, 1, 20, 17, 0, tzinfo=UTC)


def test_no_minimum_goal_shows_in_the_preview() -> None:
    d = dialog((MASTODON,))
    state = d.start().state
    for text in ("Title", MESSAGE, SKIP, "0"):
        state = say(d, state, text).state
    reply = skip_extras(d, say(d, state, "in 2 days"))
    assert reply.message.parts[-1].params["goal"] == Text("goal.none", {})


@pytest.mark.parametrize(
    ("step_answers", "wrong", "key"),
    [
        ((), "ab", "title.too_short"),
        ((), "t" * 81, "title.too_long"),
        (("Title",), "   ", "message.empty"),
        (("Title",), "m" * 501, "message.too_long"),
        (("Title", MESSAGE, SKIP), "-3", "goal.negative"),
        (("Title", MESSAGE, SKIP), "lots", "goal.not_a_number"),
        (("Title", MESSAGE, SKIP, "10"), "whenever", "launch.unparseable"),
        (("Title", MESSAGE, SKIP, "10"), "2030-01-15 12:00", "launch.past"),
        (("Title", MESSAGE, SKIP, "10"), "in 30 minutes", "launch.too_soon"),
        (("Title", MESSAGE, SKIP, "10"), "in 400 days", "launch.too_far"),
        (("Title", MESSAGE, SKIP, "10"), "2030-02-30 18:00", "launch.unparseable"),
    ],
)
def test_a_wrong_answer_re_asks_the_same_step_with_the_reason(
    step_answers: tuple[str, ...], wrong: str, key: str
) -> None:
    d = dialog()
    state = d.start().state
    for text in step_answers:
        state = say(d, state, text).state
    reply = say(d, state, wrong)
    assert reply.state == state  # nothing lost, nothing changed
    assert [e.key for e in reply.errors] == [key]
    assert reply.message.parts[0].key == key
    assert asked(reply) == f"dialog.ask_{state.step.value}"
    assert "dlg:cancel" in actions(reply)


def test_message_longer_than_x_allows_is_refused_when_toggling_x() -> None:
    d = dialog()
    state = at_networks(d, message="#bees " + "m" * 300)
    reply = act(d, state, "net:x")
    assert reply.state == state
    assert [e.key for e in reply.errors] == ["message.too_long"]
    assert reply.errors[0].params["network"] == "x"
    assert asked(reply) == "dialog.ask_networks"
    reply = act(d, state, "net:mastodon")
    assert reply.state.networks == (MASTODON,)


def test_done_with_no_network_chosen_is_refused() -> None:
    d = dialog()
    state = at_networks(d)
    reply = act(d, state, "networks_done")
    assert reply.state == state
    assert [e.key for e in reply.errors] == ["networks.none_chosen"]


def test_a_network_not_offered_here_is_refused() -> None:
    d = dialog((X, MASTODON))
    state = at_networks(d)
    reply = act(d, state, "net:sandbox")
    assert [e.key for e in reply.errors] == ["networks.unavailable"]
    reply = act(d, state, "net:myspace")  # any network id: this Chorus does not offer it
    assert [e.key for e in reply.errors] == ["networks.unavailable"]
    assert reply.state == state


def test_single_available_network_skips_the_networks_step() -> None:
    d = dialog((MASTODON,))
    state = d.start().state
    for text in ("Title", MESSAGE, SKIP, "10"):
        state = say(d, state, text).state
    assert state.message == MESSAGE
    reply = skip_extras(d, say(d, state, "2030-01-20 18:00"))
    assert reply.state.step is Step.PREVIEW
    assert reply.state.networks == (MASTODON,)
    assert asked(reply) == "dialog.preview"
    reply = act(d, reply.state, "edit")
    assert "dlg:edit:networks" not in actions(reply)


def test_single_network_message_is_checked_against_that_network() -> None:
    d = dialog((X,))
    state = say(d, d.start().state, "Title").state
    reply = say(d, state, "m" * 281)
    assert [e.key for e in reply.errors] == ["message.too_long"]
    assert reply.message.parts[-1].params == {"limit": 280}


@pytest.mark.parametrize(
    ("field", "answer", "attribute", "value"),
    [
        ("title", "A better title", "title", "A better title"),
        ("message", "Bees! #bees", "message", "Bees! #bees"),
        ("goal", "none", "goal", 0),
        ("launch", "2030-01-21 09:00", "launch_at", datetime(2030, 1, 21, 8, 0, tzinfo=UTC)),
    ],
)
def test_editing_a_field_from_the_preview_returns_to_the_preview(
    field: str, answer: str, attribute: str, value: object
) -> None:
    d = dialog()
    preview = at_preview(d)
    menu = act(d, preview, "edit")
    assert (menu.state.step, asked(menu)) == (Step.EDIT_MENU, "dialog.ask_edit")
    assert f"dlg:edit:{field}" in actions(menu)
    question = act(d, menu.state, f"edit:{field}")
    assert asked(question) == f"dialog.ask_{field}"
    back = say(d, question.state, answer)
    assert back.state.step is Step.PREVIEW
    assert getattr(back.state, attribute) == value
    unchanged = {"title", "message", "goal", "launch_at", "networks"} - {attribute}
    for name in unchanged:
        assert getattr(back.state, name) == getattr(preview, name)


def test_a_wrong_answer_while_editing_stays_on_that_field() -> None:
    d = dialog()
    question = act(d, act(d, at_preview(d), "edit").state, "edit:goal")
    reply = say(d, question.state, "many")
    assert (reply.state.step, [e.key for e in reply.errors]) == (
        Step.GOAL,
        ["goal.not_a_number"],
    )


def test_editing_networks_from_the_preview_returns_to_the_preview() -> None:
    d = dialog()
    menu = act(d, at_preview(d), "edit")
    reply = act(d, menu.state, "edit:networks")
    assert asked(reply) == "dialog.ask_networks"
    reply = act(d, reply.state, "net:x")
    reply = act(d, reply.state, "networks_done")
    assert (reply.state.step, reply.state.networks) == (Step.PREVIEW, BOTH)


def test_editing_the_message_checks_it_against_the_chosen_networks() -> None:
    d = dialog()
    preview = skip_extras(d, act(d, act(d, at_networks(d), "net:x").state, "networks_done")).state
    question = act(d, act(d, preview, "edit").state, "edit:message")
    assert question.message.parts[-1].params == {"limit": 280}
    reply = say(d, question.state, "m" * 300)  # fits Mastodon, not the chosen X
    assert [e.key for e in reply.errors] == ["message.too_long"]
    assert reply.state.message == MESSAGE


def test_back_from_the_edit_menu_returns_to_the_preview() -> None:
    d = dialog()
    preview = at_preview(d)
    reply = act(d, act(d, preview, "edit").state, "back")
    assert reply.state == preview


@pytest.mark.parametrize(
    ("step", "action"),
    [
        (Step.TITLE, "submit"),
        (Step.TITLE, "networks_done"),
        (Step.TITLE, "net:x"),
        (Step.GOAL, "edit"),
        (Step.PREVIEW, "net:x"),
        (Step.PREVIEW, "networks_done"),
        (Step.PREVIEW, "edit:title"),
        (Step.PREVIEW, "back"),
        (Step.NETWORKS, "submit"),
        (Step.EDIT_MENU, "submit"),
        (Step.TITLE, "nonsense"),
    ],
)
def test_stale_buttons_re_ask_the_current_step(step: Step, action: str) -> None:
    d = dialog()
    state = at_preview(d)
    if step is not Step.PREVIEW:
        state = DialogState(**{**state.__dict__, "step": step})
    reply = act(d, state, action)
    assert reply.state == state
    assert [e.key for e in reply.errors] == ["dialog.stale_button"]
    assert reply.submitted is None


def test_an_unknown_field_in_the_edit_menu_is_refused() -> None:
    d = dialog()
    menu = act(d, at_preview(d), "edit").state
    reply = act(d, menu, "edit:colour")
    assert (reply.state, [e.key for e in reply.errors]) == (menu, ["dialog.use_buttons"])


@pytest.mark.parametrize("step", [Step.NETWORKS, Step.PREVIEW, Step.EDIT_MENU])
def test_typing_where_buttons_are_expected_asks_for_buttons(step: Step) -> None:
    d = dialog()
    state = DialogState(**{**at_preview(d).__dict__, "step": step})
    reply = say(d, state, "hello")
    assert (reply.state, [e.key for e in reply.errors]) == (state, ["dialog.use_buttons"])


@pytest.mark.parametrize("step", list(Step))
def test_cancel_at_any_step_ends_the_dialog(step: Step) -> None:
    d = dialog()
    state = DialogState(**{**at_preview(d).__dict__, "step": step})
    reply = act(d, state, "cancel")
    assert (reply.state, reply.cancelled, reply.submitted) == (None, True, None)
    assert reply.message.parts[0].key == "dialog.cancelled"


def test_submit_after_the_launch_became_too_soon_re_asks_the_launch() -> None:
    preview = at_preview(dialog())
    later = dialog(now=datetime(2030, 1, 20, 16, 30, tzinfo=UTC))  # 30 min before launch
    reply = act(later, preview, "submit")
    assert reply.submitted is None
    assert reply.state.step is Step.LAUNCH
    assert [e.key for e in reply.errors] == ["launch.too_soon"]
    assert asked(reply) == "dialog.ask_launch"
    again = say(later, reply.state, "2030-01-21 18:00")
    assert again.state.step is Step.PREVIEW  # straight back to the preview
    assert act(later, again.state, "submit").submitted is not None


def test_submit_after_the_launch_passed_re_asks_the_launch() -> None:
    preview = at_preview(dialog())
    reply = act(dialog(now=datetime(2030, 2, 1, tzinfo=UTC)), preview, "submit")
    assert (reply.state.step, [e.key for e in reply.errors]) == (Step.LAUNCH, ["launch.past"])


def test_state_round_trips_through_a_dict_at_every_step() -> None:
    d = dialog()
    states = [d.start().state, at_networks(d), at_preview(d)]
    states.append(act(d, states[-1], "edit").state)
    states.append(DialogState())
    for state in states:
        assert state is not None
        data = state.to_dict()
        assert DialogState.from_dict(data) == state
        assert DialogState.from_dict(json.loads(json.dumps(data))) == state


def test_goal_zero_survives_the_round_trip() -> None:
    state = DialogState(step=Step.LAUNCH, title="T", message="M", goal=0)
    assert DialogState.from_dict(state.to_dict()).goal == 0


# the optional story and picture ----------------------------------------------------------

STORY = "We are neighbours.\r\n\r\n\r\n\r\nThe river is ours: https://river.example  \x07"


def at_story(d: NewCampaignDialog) -> DialogState:
    state = act(d, at_networks(d), "net:mastodon").state
    reply = act(d, state, "networks_done")
    assert reply.state is not None and reply.state.step is Step.STORY
    return reply.state


def test_a_story_is_cleaned_and_shown_in_the_preview_then_submitted() -> None:
    d = dialog()
    reply = say(d, at_story(d), STORY)
    assert (reply.state.step, asked(reply)) == (Step.PICTURE, "dialog.ask_picture")
    assert reply.state.story == "We are neighbours.\n\nThe river is ours: https://river.example"
    assert actions(reply) == ["dlg:skip", "dlg:cancel"]
    reply = d.handle_picture(reply.state, "ab" * 32 + ".jpg")
    assert reply.state.step is Step.PREVIEW
    params = reply.message.parts[-1].params
    assert params["story"] == reply.state.story
    assert params["picture"] == Text("dialog.picture_attached", {})
    draft = act(d, reply.state, "submit").submitted
    assert draft is not None
    assert (draft.story, draft.picture) == (reply.state.story, "ab" * 32 + ".jpg")


def test_skipping_both_submits_without_story_or_picture() -> None:
    d = dialog()
    preview = at_preview(d)
    params = d.ask(preview).message.parts[-1].params
    assert params["story"] == Text("dialog.story_none", {})
    assert params["picture"] == Text("dialog.picture_none", {})
    draft = act(d, preview, "submit").submitted
    assert draft is not None and (draft.story, draft.picture) == (None, None)


@pytest.mark.parametrize(
    ("typed", "key"),
    [("x" * 2001, "story.too_long"), ("  \n\n \x00 ", "story.empty")],
)
def test_a_story_too_long_or_empty_is_asked_again(typed: str, key: str) -> None:
    d = dialog()
    state = at_story(d)
    reply = say(d, state, typed)
    assert (reply.state, [e.key for e in reply.errors]) == (state, [key])
    assert asked(reply) == "dialog.ask_story"


def test_a_story_of_exactly_the_limit_is_taken() -> None:
    d = dialog()
    reply = say(d, at_story(d), "x" * 2000)
    assert reply.state.story == "x" * 2000 and reply.state.step is Step.PICTURE


def test_text_where_a_picture_is_expected_says_how_to_send_one() -> None:
    d = dialog()
    state = act(d, at_story(d), "skip").state
    reply = say(d, state, "here is my picture")
    assert (reply.state, [e.key for e in reply.errors]) == (state, ["picture.expected"])
    assert actions(reply) == ["dlg:skip", "dlg:cancel"]


def test_a_picture_when_none_is_expected_is_refused() -> None:
    d = dialog()
    state = at_story(d)
    reply = d.handle_picture(state, "ab" * 32 + ".jpg")
    assert (reply.state, [e.key for e in reply.errors]) == (state, ["picture.unexpected"])


def test_story_and_picture_are_editable_from_the_preview_and_skip_removes_them() -> None:
    d = dialog()
    state = act(d, at_story(d), "skip").state
    preview = d.handle_picture(state, "cd" * 32 + ".png").state
    menu = act(d, preview, "edit")
    assert {"dlg:edit:story", "dlg:edit:picture"} <= set(actions(menu))
    question = act(d, menu.state, "edit:story")
    assert asked(question) == "dialog.ask_story"
    reply = say(d, question.state, "Why it matters.")
    assert (reply.state.step, reply.state.story) == (Step.PREVIEW, "Why it matters.")
    question = act(d, act(d, reply.state, "edit").state, "edit:picture")
    reply = act(d, question.state, "skip")
    assert (reply.state.step, reply.state.picture) == (Step.PREVIEW, None)
    assert reply.state.story == "Why it matters."


def test_the_edit_menu_lists_every_field_in_the_dialog_order() -> None:
    d = dialog()
    preview = act(d, act(d, at_story(d), "skip").state, "skip").state
    fields = [a for a in actions(act(d, preview, "edit")) if a.startswith("dlg:edit:")]
    names = ["title", "message", "variants", "goal", "launch", "networks", "story", "picture"]
    assert fields == [f"dlg:edit:{name}" for name in names]


def test_story_and_picture_round_trip_through_a_dict() -> None:
    d = dialog()
    state = d.handle_picture(say(d, at_story(d), "A story.").state, "ef" * 32 + ".jpg").state
    assert DialogState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
