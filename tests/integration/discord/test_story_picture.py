"""The optional story and picture through Discord: the campaign form is full (Discord's five
fields), so the story has its own form, opened from the story step or the preview; a modal
takes no file, so the picture comes with ``/campaignpicture`` and an attachment at the
picture step, fetched from the CDN only when allowed."""

from __future__ import annotations

import io

from PIL import Image

from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import (
    FORM,
    PREVIEW_BUTTONS,
    create_campaign,
    custom_ids,
    write_story,
)
from tests.integration.discord.test_refusals import form_values

STORY = "The river feeds the town.\n\nWe ask the council to act."


def photo(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 80, 200)).save(out, format="WEBP")
    return out.getvalue()


async def at_story_step(h: DiscordHarness, values: dict[str, str]) -> dict:
    fake = h.fake
    submitted = await fake.submit_modal("organiser", "chorus:modal:campaign:new", values)
    networks = await fake.reply_to(submitted)
    await fake.reply_to(await fake.press("organiser", networks["id"], "chorus:dlg:net:mastodon"))
    return await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )


async def at_picture_step(h: DiscordHarness, values: dict[str, str], story: str = "") -> dict:
    return await write_story(h, "organiser", await at_story_step(h, values), story)


async def test_story_from_its_form_and_picture_from_the_command(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    card = await create_campaign(discord_bot, story=STORY, picture=photo())
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    assert campaign.story == STORY
    assert campaign.picture is not None and campaign.picture.endswith(".jpg")
    assert len(fake.downloads) == 1
    assert "The river feeds the town." in fake.text_of(card)
    assert f"/pictures/{campaign.picture}" in fake.text_of(card)


async def test_editing_the_draft_keeps_its_story_and_picture_and_ignores_forged_ones(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    await at_picture_step(discord_bot, FORM, STORY)
    preview = await fake.reply_to(
        await fake.slash_with_file("organiser", "campaignpicture", "image", photo())
    )
    assert "Picture: attached" in fake.text_of(preview)
    assert custom_ids(preview) == PREVIEW_BUTTONS
    organiser = UserRef("discord", fake.people["organiser"].id)
    kept = (await core.dialogs.current(organiser)).picture  # type: ignore[union-attr]
    modal = (await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:edit")))[
        "modal"
    ]
    assert form_values(modal) == FORM  # the campaign form has no story field
    forged = {**FORM, "title": "Clean rivers soon", "story": "Forged.", "picture": "ab" * 32}
    again = await fake.reply_to(await fake.submit_modal("organiser", modal["custom_id"], forged))
    text = fake.text_of(again)
    assert "Title: Clean rivers soon" in text and "Picture: attached" in text
    assert "The river feeds the town." in text and "Forged." not in text
    state = await core.dialogs.current(organiser)
    assert state is not None and (state.story, state.picture) == (STORY, kept)


async def test_the_story_changes_from_the_preview_in_its_own_form(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    asked = await at_picture_step(discord_bot, FORM, STORY)
    preview = await fake.reply_to(await fake.press("organiser", asked["id"], "chorus:dlg:skip"))
    modal = (await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:story")))[
        "modal"
    ]
    assert modal["custom_id"] == "chorus:modal:story"
    assert form_values(modal) == {"story": STORY}  # prefilled with the draft's
    changed = await fake.reply_to(
        await fake.submit_modal("organiser", "chorus:modal:story", {"story": "Shorter."})
    )
    assert "Story: Shorter." in fake.text_of(changed)
    assert custom_ids(changed) == PREVIEW_BUTTONS
    removed = await fake.reply_to(
        await fake.submit_modal("organiser", "chorus:modal:story", {"story": "  "})
    )
    assert "Please check your campaign" in fake.text_of(removed)
    organiser = UserRef("discord", fake.people["organiser"].id)
    state = await core.dialogs.current(organiser)
    assert state is not None and state.story is None and state.picture is None


async def test_a_story_too_long_is_asked_again_in_its_form(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    asked = await at_story_step(discord_bot, FORM)
    answer = await write_story(discord_bot, "organiser", asked, "x" * 2001)
    assert "The story is too long (2,001/2,000)" in fake.text_of(answer)
    assert custom_ids(answer) == ["chorus:story", "chorus:dlg:skip", "chorus:dlg:cancel"]
    modal = (await fake.reply_to(await fake.press("organiser", answer["id"], "chorus:story")))[
        "modal"
    ]
    assert form_values(modal) == {}  # the refused story was not kept


async def test_the_story_form_without_a_dialog_is_explained(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    answer = await fake.reply_to(
        await fake.submit_modal("outsider", "chorus:modal:story", {"story": STORY})
    )
    assert answer["flags"] & EPHEMERAL
    assert "You are not creating a campaign" in fake.text_of(answer)


async def test_a_picture_too_big_is_refused_without_fetching_it(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    await at_picture_step(discord_bot, FORM)
    big = photo() + b"\0" * (5 * 1024 * 1024)
    answer = await fake.reply_to(
        await fake.slash_with_file("organiser", "campaignpicture", "image", big)
    )
    assert answer["flags"] & EPHEMERAL
    assert "That picture is too big: at most 5 MB" in fake.text_of(answer)
    assert fake.downloads == []
    assert custom_ids(answer) == ["chorus:dlg:skip", "chorus:dlg:cancel"]


async def test_a_file_that_is_no_picture_is_refused(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    await at_picture_step(discord_bot, FORM)
    answer = await fake.reply_to(
        await fake.slash_with_file(
            "organiser", "campaignpicture", "image", b"%PDF-1.7", filename="x.pdf"
        )
    )
    assert "send a JPEG, PNG or WebP image" in fake.text_of(answer)


async def test_a_picture_without_a_dialog_is_explained(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    answer = await fake.reply_to(
        await fake.slash_with_file("outsider", "campaignpicture", "image", photo())
    )
    assert "You are not creating a campaign" in fake.text_of(answer)
    assert fake.downloads == []
