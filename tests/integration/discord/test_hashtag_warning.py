"""Discord: a form whose message has no hashtag is warned about; keep it or fix the form."""

from __future__ import annotations

from bot.dialog import DialogState, Step
from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import FORM, custom_ids, skip_optional
from tests.integration.discord.test_refusals import form_values

NO_TAG = {**FORM, "message": "Our rivers deserve better https://example.org/rivers"}
WARNING_BUTTONS = ["chorus:dlg:keep_message", "chorus:form", "chorus:dlg:cancel"]


async def state_of(h: DiscordHarness) -> DialogState:
    organiser = UserRef("discord", h.fake.people["organiser"].id)
    data = await h.core.repo.load_dialog(organiser.key)
    assert data is not None
    return DialogState.from_dict(data)


async def test_keeping_the_message_goes_on_with_the_rest_of_the_form(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    submitted = await fake.submit_modal("organiser", "chorus:modal:campaign:new", NO_TAG)
    warning = await fake.reply_to(submitted)
    assert warning["flags"] & EPHEMERAL
    assert "Trending needs a hashtag" in fake.text_of(warning)
    assert custom_ids(warning) == WARNING_BUTTONS
    assert (await state_of(discord_bot)).step is Step.CONFIRM_MESSAGE

    kept = await fake.reply_to(
        await fake.press("organiser", warning["id"], "chorus:dlg:keep_message")
    )
    assert "chorus:dlg:net:mastodon" in custom_ids(kept)
    state = await state_of(discord_bot)
    assert (state.step, state.message, state.goal) == (Step.NETWORKS, NO_TAG["message"], 3)
    assert state.launch_at is not None

    # editing another field from the preview does not ask about the same message again
    toggled = await fake.reply_to(
        await fake.press("organiser", kept["id"], "chorus:dlg:net:mastodon")
    )
    asked = await fake.reply_to(
        await fake.press("organiser", toggled["id"], "chorus:dlg:networks_done")
    )
    preview = await skip_optional(discord_bot, "organiser", asked)
    reopened = await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:edit"))
    again = await fake.submit_modal(
        "organiser", reopened["modal"]["custom_id"], {**NO_TAG, "goal": "5"}
    )
    answer = await fake.reply_to(again)
    assert "chorus:dlg:submit" in custom_ids(answer)
    assert "Goal: 5 supporters" in fake.text_of(answer)
    assert (await state_of(discord_bot)).step is Step.PREVIEW


async def test_fixing_the_form_from_the_warning_reopens_it_prefilled(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    warning = await fake.reply_to(
        await fake.submit_modal("organiser", "chorus:modal:campaign:new", NO_TAG)
    )
    reopened = await fake.reply_to(await fake.press("organiser", warning["id"], "chorus:form"))
    assert form_values(reopened["modal"]) == NO_TAG
    fixed = await fake.submit_modal("organiser", reopened["modal"]["custom_id"], FORM)
    assert "chorus:dlg:net:mastodon" in custom_ids(await fake.reply_to(fixed))
    assert (await state_of(discord_bot)).message == FORM["message"]
