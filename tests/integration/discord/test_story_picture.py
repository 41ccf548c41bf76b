"""The optional story and picture through Discord: the story is the form's fifth (optional)
field; a modal takes no file, so the picture comes with ``/campaignpicture`` and an
attachment at the picture step, fetched from the CDN only when allowed."""

from __future__ import annotations

import io

from PIL import Image

from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import FORM, create_campaign, custom_ids
from tests.integration.discord.test_refusals import form_values

STORY = "The river feeds the town.\n\nWe ask the council to act."


def photo(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 80, 200)).save(out, format="WEBP")
    return out.getvalue()


async def at_picture_step(h: DiscordHarness, values: dict[str, str]) -> dict:
    fake = h.fake
    submitted = await fake.submit_modal("organiser", "chorus:modal:campaign:new", values)
    networks = await fake.reply_to(submitted)
    await fake.reply_to(await fake.press("organiser", networks["id"], "chorus:dlg:net:mastodon"))
    return await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )


async def test_story_from_the_form_and_picture_from_the_command(
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


async def test_editing_the_draft_keeps_its_picture_and_ignores_a_forged_one(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    await at_picture_step(discord_bot, {**FORM, "story": STORY})
    preview = await fake.reply_to(
        await fake.slash_with_file("organiser", "campaignpicture", "image", photo())
    )
    assert "Picture: attached" in fake.text_of(preview)
    organiser = UserRef("discord", fake.people["organiser"].id)
    kept = (await core.dialogs.current(organiser)).picture  # type: ignore[union-attr]
    modal = (await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:edit")))[
        "modal"
    ]
    assert form_values(modal) == {**FORM, "story": STORY}
    forged = {**FORM, "story": "Shorter.", "picture": "ab" * 32 + ".jpg"}
    again = await fake.reply_to(await fake.submit_modal("organiser", modal["custom_id"], forged))
    assert "Story: Shorter." in fake.text_of(again) and "Picture: attached" in fake.text_of(again)
    assert (await core.dialogs.current(organiser)).picture == kept  # type: ignore[union-attr]


async def test_a_story_too_long_offers_to_fix_the_form(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    answer = await at_picture_step(discord_bot, {**FORM, "story": "x" * 2001})
    assert "The story is too long (2001/2000)" in fake.text_of(answer)
    assert custom_ids(answer) == ["chorus:form", "chorus:dlg:cancel"]


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
