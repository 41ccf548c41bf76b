"""The /newcampaign dialog as organisers meet it: state kept in the database."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus
from bot.dialog import ACTION_PREFIX, DialogState, FormAnswers, Step
from bot.domain.campaign import CampaignStatus
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import GROUP, MESSAGE, ORGANISER, RecordingNetwork

LAUNCH = "2030-01-20 18:00"  # the clock starts at 2030-01-15 12:00 UTC; the zone is UTC


async def fill_in(core: Chorus) -> None:
    await core.dialogs.begin(ORGANISER)
    for answer in ("Save the bees", MESSAGE, "3", LAUNCH):
        reply = await core.dialogs.text(ORGANISER, answer, GROUP)
        assert reply.errors == ()
        if answer == MESSAGE:  # no other wordings
            await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}variants_done", GROUP)


async def skip_extras(core: Chorus) -> None:
    for _ in range(2):  # the story, then the picture
        reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}skip")
        assert reply.errors == ()


def photo_bytes(size: tuple[int, int] = (40, 30), fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def fetch(data: bytes) -> Callable[[], Awaitable[bytes]]:
    async def download() -> bytes:
        return data

    return download


async def at_picture(core: Chorus) -> None:
    await fill_in(core)
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}net:mastodon")
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}networks_done")
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}skip")


async def test_a_picture_too_big_is_refused_before_it_is_fetched(core: Chorus) -> None:
    await at_picture(core)

    async def never() -> bytes:
        raise AssertionError("fetched a picture the platform said was too big")

    reply = await core.dialogs.picture(ORGANISER, never, size=5 * 1024 * 1024 + 1)
    assert [e.key for e in reply.errors] == ["picture.too_big"]
    assert reply.errors[0].params == {"max_mb": "5"}
    assert await core.dialogs.wants_picture(ORGANISER)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"GIF89a" + b"\0" * 40, "picture.bad_type"),
        (b"%PDF-1.4 not a picture", "picture.bad_type"),
        (b"", "picture.empty"),
        (photo_bytes((400, 300))[:400], "picture.unreadable"),  # cut short
    ],
)
async def test_a_file_that_is_not_an_accepted_picture_is_refused(
    core: Chorus, data: bytes, key: str
) -> None:
    await at_picture(core)
    reply = await core.dialogs.picture(ORGANISER, fetch(data))
    assert [e.key for e in reply.errors] == [key]
    assert reply.message.parts[-1].key == "dialog.ask_picture"
    assert await core.dialogs.wants_picture(ORGANISER)


async def test_a_picture_while_no_picture_is_expected_is_not_fetched(core: Chorus) -> None:
    await fill_in(core)

    async def never() -> bytes:
        raise AssertionError("fetched a picture nobody asked for")

    reply = await core.dialogs.picture(ORGANISER, never)
    assert [e.key for e in reply.errors] == ["picture.unexpected"]


async def test_the_whole_dialog_submits_a_campaign(core: Chorus, front: RecordingFrontEnd) -> None:
    assert not await core.dialogs.active(ORGANISER)
    first = await core.dialogs.begin(ORGANISER)
    assert first.message.parts[-1].key == "dialog.ask_title"
    assert await core.dialogs.active(ORGANISER)
    await fill_in(core)
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}net:mastodon")
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}networks_done")
    reply = await core.dialogs.text(ORGANISER, "Bees feed us.\n\nLet us feed them.")
    assert reply.message.parts[-1].key == "dialog.ask_picture"
    reply = await core.dialogs.picture(ORGANISER, fetch(photo_bytes()), size=None)
    assert reply.message.parts[-1].key == "dialog.preview"
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit", GROUP)
    assert reply.state is None and reply.submitted is not None
    assert reply.message.parts[0].key == "dialog.submitted"
    assert not await core.dialogs.active(ORGANISER)
    [campaign] = await core.repo.campaigns_of(ORGANISER)
    assert reply.message.parts[0].params == {"ref": campaign.ref, "title": "Save the bees"}
    assert campaign.status is CampaignStatus.PENDING_REVIEW
    assert (campaign.goal, campaign.networks, campaign.origin_chat) == (
        3,
        (MASTODON,),
        GROUP,
    )
    assert campaign.launch_at == datetime(2030, 1, 20, 18, 0, tzinfo=UTC)
    assert campaign.story == "Bees feed us.\n\nLet us feed them."
    assert campaign.picture is not None and campaign.picture.endswith(".jpg")
    assert len(front.to("moderators")) == 1


async def test_the_state_survives_a_restart(make_core: Callable[..., Chorus]) -> None:
    before = make_core()
    await before.dialogs.begin(ORGANISER)
    await before.dialogs.text(ORGANISER, "Save the bees")
    after = make_core()  # a new process over the same database
    reply = await after.dialogs.text(ORGANISER, MESSAGE)
    assert reply.state is not None
    assert (reply.state.title, reply.state.step) == ("Save the bees", Step.VARIANTS)


async def test_a_wrong_answer_is_stored_unchanged(core: Chorus) -> None:
    await core.dialogs.begin(ORGANISER)
    reply = await core.dialogs.text(ORGANISER, "no")
    assert [e.key for e in reply.errors] == ["title.too_short"]
    stored = await core.repo.load_dialog(ORGANISER.key)
    assert stored is not None and DialogState.from_dict(stored) == DialogState()


async def test_without_a_dialog_text_and_buttons_say_so(core: Chorus) -> None:
    for reply in (
        await core.dialogs.text(ORGANISER, "hello"),
        await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit"),
    ):
        assert reply.state is None and reply.submitted is None
        assert reply.message.parts[0].key == "dialog.none_active"
    assert await core.repo.load_dialog(ORGANISER.key) is None


async def test_cancel(core: Chorus) -> None:
    await core.dialogs.begin(ORGANISER)
    await core.dialogs.text(ORGANISER, "Save the bees")
    reply = await core.dialogs.cancel(ORGANISER)
    assert (reply.cancelled, reply.message.parts[0].key) == (True, "dialog.cancelled")
    assert not await core.dialogs.active(ORGANISER)
    again = await core.dialogs.cancel(ORGANISER)
    assert (again.cancelled, again.message.parts[0].key) == (False, "dialog.none_active")


async def test_cancel_button_deletes_the_state(core: Chorus) -> None:
    await core.dialogs.begin(ORGANISER)
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}cancel")
    assert reply.cancelled
    assert not await core.dialogs.active(ORGANISER)
    assert await core.repo.campaigns_of(ORGANISER) == []


async def test_begin_again_starts_over(core: Chorus) -> None:
    await core.dialogs.begin(ORGANISER)
    await core.dialogs.text(ORGANISER, "Save the bees")
    await core.dialogs.begin(ORGANISER)
    stored = await core.repo.load_dialog(ORGANISER.key)
    assert stored is not None and DialogState.from_dict(stored) == DialogState()


async def test_only_the_networks_this_chorus_has_are_offered(
    make_core: Callable[..., Chorus], mastodon: RecordingNetwork
) -> None:
    core = make_core(networks={MASTODON: mastodon})
    await fill_in(core)  # no networks step: straight to the story
    await skip_extras(core)
    stored = await core.repo.load_dialog(ORGANISER.key)
    assert stored is not None
    state = DialogState.from_dict(stored)
    assert (state.step, state.networks) == (Step.PREVIEW, (MASTODON,))


async def test_submit_when_the_launch_became_too_soon_re_asks_the_launch(
    core: Chorus, clock: FakeClock
) -> None:
    await fill_in(core)
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}net:mastodon")
    await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}networks_done")
    await skip_extras(core)
    clock.set(datetime(2030, 1, 20, 17, 30, tzinfo=UTC))  # the organiser went for lunch
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit")
    assert [e.key for e in reply.errors] == ["launch.too_soon"]
    assert reply.state is not None and reply.state.step is Step.LAUNCH
    assert await core.repo.campaigns_of(ORGANISER) == []
    reply = await core.dialogs.text(ORGANISER, "2030-01-21 18:00")
    assert reply.state is not None and reply.state.step is Step.PREVIEW
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit")
    assert reply.submitted is not None


async def test_a_stored_state_refused_at_submit_is_shown_again_with_the_reason(
    core: Chorus, clock: FakeClock
) -> None:
    # A draft saved before the rules changed: its message no longer fits X.
    old = DialogState(
        step=Step.PREVIEW,
        title="Old draft",
        message="m" * 300,
        goal=5,
        launch_at=clock.now() + timedelta(days=1),
        networks=(X,),
    )
    await core.repo.save_dialog(ORGANISER.key, old.to_dict())
    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit")
    assert [e.key for e in reply.errors] == ["message.too_long"]
    assert reply.state == old  # nothing lost
    assert reply.message.parts[-1].key == "dialog.preview"
    assert [b.action for row in reply.message.buttons for b in row] == [
        "dlg:submit",
        "dlg:edit",
        "dlg:cancel",
    ]
    assert await core.dialogs.active(ORGANISER)
    assert await core.repo.campaigns_of(ORGANISER) == []


async def test_a_full_moderation_queue_keeps_the_draft(core: Chorus) -> None:
    async def to_preview() -> None:
        await fill_in(core)
        await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}net:mastodon")
        await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}networks_done")
        await skip_extras(core)

    for _ in range(3):  # the default cap: three waiting at once
        await to_preview()
        reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit", GROUP)
        assert reply.submitted is not None
    await to_preview()
    kept = DialogState.from_dict(await core.repo.load_dialog(ORGANISER.key) or {})

    reply = await core.dialogs.action(ORGANISER, f"{ACTION_PREFIX}submit", GROUP)

    assert [e.key for e in reply.errors] == ["campaign.too_many_pending"]
    assert reply.state == kept  # nothing lost: the preview again, Submit still there
    assert reply.message.parts[-1].key == "dialog.preview"
    assert await core.dialogs.active(ORGANISER)
    assert len(await core.repo.campaigns_of(ORGANISER)) == 3


async def test_an_unreadable_stored_state_is_dropped_not_crashed_on(core: Chorus) -> None:
    await core.repo.save_dialog(ORGANISER.key, {"step": "colour", "title": 3})
    reply = await core.dialogs.text(ORGANISER, "hello")
    assert reply.message.parts[0].key == "dialog.none_active"
    assert await core.repo.load_dialog(ORGANISER.key) is None
    assert (await core.dialogs.begin(ORGANISER)).message.parts[-1].key == "dialog.ask_title"


async def test_a_forms_answers_stay_with_the_dialog_until_it_ends(core: Chorus) -> None:
    form = FormAnswers({"title": "Save the bees", "goal": "3"}, ("x",), None)
    await core.dialogs.begin(ORGANISER, form)
    await core.dialogs.text(ORGANISER, "Save the bees")
    state = await core.dialogs.current(ORGANISER)
    assert state is not None and state.step is Step.MESSAGE and state.form == form
    kept = FormAnswers(form.values, (), MESSAGE)
    await core.dialogs.remember_form(ORGANISER, kept)
    await core.dialogs.text(ORGANISER, MESSAGE)
    state = await core.dialogs.current(ORGANISER)
    assert state is not None and state.step is Step.VARIANTS and state.form == kept
    await core.dialogs.cancel(ORGANISER)
    assert await core.dialogs.current(ORGANISER) is None
    await core.dialogs.remember_form(ORGANISER, kept)  # no dialog: nothing to keep it with
    assert await core.dialogs.current(ORGANISER) is None
