"""The dialog's optional variants step: add one at a time, remove, skip, edit, preview."""

from __future__ import annotations

from adapters.networks.mastodon import MASTODON
from bot.dialog import DialogState, Step
from bot.domain.text import Text
from bot.domain.variants import Variant
from tests.unit.test_dialog import MESSAGE, SKIP, act, actions, asked, at_preview, dialog, say

LINK = "https://bees.example/act"
SECOND = f"Bees feed us all #bees {LINK}"
FRENCH = f"Les abeilles nous nourrissent #bees {LINK}"


def at_variants() -> DialogState:
    d = dialog()
    state = say(d, say(d, d.start().state, "Save the bees").state, MESSAGE).state
    assert state is not None and state.step is Step.VARIANTS
    return state


def test_variants_are_added_one_at_a_time_with_an_optional_language() -> None:
    d = dialog()
    reply = say(d, at_variants(), SECOND)
    assert reply.errors == () and reply.state.step is Step.VARIANTS
    assert reply.state.variants == (Variant(SECOND),)
    reply = say(d, reply.state, f"fr: {FRENCH}")
    assert reply.state.variants == (Variant(SECOND), Variant(FRENCH, "fr"))
    keys = [p.key for p in reply.message.parts]
    assert keys == ["variants.ask", "variants.line", "variants.line_language"]
    assert reply.message.parts[2].params == {"number": 3, "language": "fr", "text": FRENCH}
    assert actions(reply) == [
        "dlg:variant_rm:2",
        "dlg:variant_rm:3",
        "dlg:variants_done",
        "dlg:cancel",
    ]
    assert reply.message.buttons[1][0].label == Text("button.done", {})
    done = act(d, reply.state, "variants_done")
    assert (done.state.step, asked(done)) == (Step.GOAL, "dialog.ask_goal")


def test_skip_is_offered_while_there_is_none() -> None:
    d = dialog()
    state = at_variants()
    reply = d.ask(state)
    assert reply.message.buttons[0][0].label == Text("variants.skip", {})
    assert act(d, state, "variants_done").state.variants == ()


def test_a_refused_variant_says_why_and_keeps_the_others() -> None:
    d = dialog()
    state = say(d, at_variants(), SECOND).state
    reply = say(d, state, "No tag, no link")
    assert [(e.key, e.params) for e in reply.errors] == [
        ("variants.missing_hashtags", {"number": 3, "tags": "#bees"})
    ]
    assert reply.state == state


def test_removing_one_renumbers_the_rest() -> None:
    d = dialog()
    state = at_variants()
    for text in (SECOND, f"fr: {FRENCH}", f"Third take #bees {LINK}"):
        state = say(d, state, text).state
    reply = act(d, state, "variant_rm:3")
    assert reply.state.variants == (Variant(SECOND), Variant(f"Third take #bees {LINK}"))
    for stale in ("variant_rm:4", "variant_rm:1", "variant_rm:x"):
        refused = act(d, reply.state, stale)
        assert [e.key for e in refused.errors] == ["dialog.stale_button"]
        assert refused.state == reply.state


def test_five_wordings_at_most() -> None:
    d = dialog()
    state = at_variants()
    for n in range(4):
        state = say(d, state, f"Take {n} #bees {LINK}").state
    reply = d.ask(state)
    assert "variants.full" in [p.key for p in reply.message.parts]
    refused = say(d, state, f"Take 5 #bees {LINK}")
    assert [(e.key, e.params) for e in refused.errors] == [("variants.too_many", {"max": 5})]
    assert len(refused.state.variants) == 4


def test_the_preview_shows_them_and_the_draft_carries_them() -> None:
    d = dialog()
    state = say(d, at_variants(), f"fr: {FRENCH}").state
    state = act(d, state, "variants_done").state
    for text in ("100", "2030-01-20 18:00"):
        state = say(d, state, text).state
    state = act(d, state, "net:mastodon").state
    state = act(d, state, "networks_done").state
    state = act(d, state, "skip").state  # the story
    reply = act(d, state, "skip")  # the picture
    keys = [p.key for p in reply.message.parts]
    assert keys == ["dialog.preview", "variants.heading", "variants.line_language"]
    submitted = act(d, reply.state, "submit").submitted
    assert submitted is not None and submitted.variants == (Variant(FRENCH, "fr"),)


def test_they_are_editable_from_the_edit_menu() -> None:
    d = dialog()
    preview = at_preview(d)
    menu = act(d, preview, "edit")
    assert "dlg:edit:variants" in actions(menu)
    question = act(d, menu.state, "edit:variants")
    assert asked(question) == "variants.ask"
    state = say(d, question.state, SECOND).state
    back = act(d, state, "variants_done")
    assert back.state.step is Step.PREVIEW and back.state.variants == (Variant(SECOND),)


def test_a_new_message_the_variants_no_longer_fit_leads_to_them() -> None:
    d = dialog()
    preview = at_preview(d)
    state = act(d, act(d, preview, "edit").state, "edit:variants").state
    state = act(d, say(d, state, SECOND).state, "variants_done").state
    question = act(d, act(d, state, "edit").state, "edit:message")
    reply = say(d, question.state, "Now about #wasps https://wasps.example")
    assert reply.state.step is Step.VARIANTS
    assert [e.key for e in reply.errors] == ["variants.missing_hashtags"]
    fixed = act(d, reply.state, "variant_rm:2")
    assert act(d, fixed.state, "variants_done").state.step is Step.PREVIEW


def test_choosing_a_network_a_variant_is_too_long_for_is_refused() -> None:
    d = dialog()
    state = say(d, at_variants(), "b" * 300 + f" #bees {LINK}").state  # fits Mastodon only
    state = act(d, state, "variants_done").state
    for text in ("100", "2030-01-20 18:00"):
        state = say(d, state, text).state
    reply = act(d, state, "net:x")
    assert [(e.key, e.params.get("network")) for e in reply.errors] == [("variants.too_long", "x")]
    assert act(d, state, "net:mastodon").state.networks == (MASTODON,)


def test_the_state_with_variants_survives_storage() -> None:
    d = dialog()
    state = say(d, at_variants(), f"fr: {FRENCH}").state
    assert DialogState.from_dict(state.to_dict()) == state
    assert DialogState.from_dict({**state.to_dict(), "variants": "junk"}).variants == ()


def test_skip_helper_still_walks_the_whole_dialog() -> None:
    d = dialog()
    state = d.start().state
    for text in ("Save the bees", MESSAGE, SKIP):
        state = say(d, state, text).state
    assert state is not None and state.step is Step.GOAL
