"""Every wrong answer in the /newcampaign dialog is re-asked with the reason, and the
answers already given are kept."""

from __future__ import annotations

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import ORGANISER, Driver, callbacks, private, ref_of

ASK_LAUNCH = t("dialog.ask_launch", minutes=60, timezone="UTC")


async def refused(tg: Driver, answer: str, reason: str, question: str) -> None:
    """Typing ``answer`` shows ``reason`` then the same ``question`` again."""
    reply = await tg.say(ORGANISER, private(ORGANISER), answer)
    assert reply.text == f"{reason}\n\n{question}", reply.text
    assert callbacks(reply) == ["dlg:cancel"]


async def test_garbage_at_every_step_is_re_asked_with_the_reason(tg: Driver, core: Chorus) -> None:
    chat = private(ORGANISER)
    en = "en"
    ask_title = render(t("dialog.ask_title"), en)
    ask_message = render(t("dialog.ask_message", limit=500), en)
    ask_goal = render(t("dialog.ask_goal"), en)
    ask_launch = render(ASK_LAUNCH, en)

    await tg.say(ORGANISER, chat, "/newcampaign")
    await refused(tg, "ab", render(t("title.too_short", min=3), en), ask_title)
    long_title = "x" * 81
    await refused(tg, long_title, render(t("title.too_long", max=80, length=81), en), ask_title)
    assert (await tg.say(ORGANISER, chat, "Clean rivers now")).text == ask_message

    too_long = "#rivers " + "a" * 500
    await refused(
        tg,
        too_long,
        render(t("message.too_long", network="mastodon", length=508, limit=500), en),
        ask_message,
    )
    variants = await tg.say(ORGANISER, chat, "Join us #rivers")
    assert variants.text == render(t("variants.ask", max=5), en)
    assert (await tg.skip_variants(ORGANISER, variants)).text == ask_goal

    await refused(tg, "-3", render(t("goal.negative"), en), ask_goal)
    await refused(tg, "abc", render(t("goal.not_a_number", value="abc"), en), ask_goal)
    assert (await tg.say(ORGANISER, chat, "100")).text == ask_launch

    await refused(tg, "2020-01-01 10:00", render(t("launch.past"), en), ask_launch)
    await refused(
        tg,
        "next blue moon",
        render(t("launch.unparseable", value="next blue moon"), en),
        ask_launch,
    )
    await refused(tg, "in 30 minutes", render(t("launch.too_soon", minutes=60), en), ask_launch)

    # the earlier answers were kept: the dialog goes on to the networks
    networks = await tg.say(ORGANISER, chat, "in 3 days")
    assert networks.text == render(t("dialog.ask_networks"), en)
    assert await core.dialogs.active(ref_of(ORGANISER))


async def test_done_without_a_network_is_refused(tg: Driver, api: FakeTelegramApi) -> None:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    for answer in ("Clean rivers now", "Join us #rivers", "0"):
        asked = await tg.say(ORGANISER, chat, answer)
        if "dlg:variants_done" in callbacks(asked):
            await tg.skip_variants(ORGANISER, asked)
    ask = await tg.say(ORGANISER, chat, "in 2 days")
    edit = await tg.press_and_see_edit(ORGANISER, api.message(ask), "dlg:networks_done")
    assert edit.text.startswith(render(t("networks.none_chosen"), "en"))
    # typing instead of pressing is refused too
    typed = await tg.say(ORGANISER, chat, "sandbox please")
    assert typed.text.startswith(render(t("dialog.use_buttons"), "en"))


async def test_cancel_leaves_the_dialog_and_saves_nothing(tg: Driver, core: Chorus) -> None:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    await tg.say(ORGANISER, chat, "Clean rivers now")
    cancelled = await tg.say(ORGANISER, chat, "/cancel")
    assert cancelled.text == render(t("dialog.cancelled"), "en")
    assert not await core.dialogs.active(ref_of(ORGANISER))
    after = await tg.say(ORGANISER, chat, "Join us #rivers")
    assert after.text == render(t("telegram.unknown_text"), "en")
    assert await core.repo.campaigns_in(list(CampaignStatus)) == []


async def test_cancel_button_leaves_the_dialog(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    ask = await tg.say(ORGANISER, private(ORGANISER), "/newcampaign")
    edit = await tg.press_and_see_edit(ORGANISER, api.message(ask), "dlg:cancel")
    assert edit.text == render(t("dialog.cancelled"), "en")
    assert not await core.dialogs.active(ref_of(ORGANISER))


async def test_an_old_dialog_button_is_explained(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    for answer in ("Clean rivers now", "Join us #rivers", "0"):
        asked = await tg.say(ORGANISER, chat, answer)
        if "dlg:variants_done" in callbacks(asked):
            await tg.skip_variants(ORGANISER, asked)
    networks = api.message(await tg.say(ORGANISER, chat, "in 2 days"))
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:net:sandbox")
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:networks_done")
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")  # no story
    preview = await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")  # no picture
    assert "dlg:submit" in callbacks(preview)
    # the organiser starts over, then presses Submit on the old preview
    await tg.say(ORGANISER, chat, "/newcampaign")
    stale = await tg.press_and_see_edit(ORGANISER, networks, "dlg:submit")
    assert stale.text == "\n\n".join(
        render(t(key), "en") for key in ("dialog.stale_button", "dialog.ask_title")
    )
    assert await core.repo.campaigns_in(list(CampaignStatus)) == []


async def test_a_dialog_message_that_cannot_be_edited_is_answered_anew(
    tg: Driver, api: FakeTelegramApi
) -> None:
    ask = api.message(await tg.say(ORGANISER, private(ORGANISER), "/newcampaign"))
    del api.messages[(ask["chat"]["id"], ask["message_id"])]  # the organiser deleted it
    since = api.mark()
    await tg.press_raw(ORGANISER, ask, "dlg:cancel")
    sent = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert sent.text == render(t("dialog.cancelled"), "en")
    failed = [c for c in api.calls[since:] if c.method == "editMessageText"]
    assert [(c.ok, c.error) for c in failed] == [(False, "Bad Request: message to edit not found")]
