"""The optional story and picture of /newcampaign through Telegram: the organiser types a
story, sends a photo (fetched with getFile from its largest size, checked, re-encoded and
kept), and the campaign carries both; wrong answers are explained."""

from __future__ import annotations

import io

from PIL import Image

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.integration.telegram.conftest import (
    MODERATION_CHAT,
    ORGANISER,
    Driver,
    callbacks,
    private,
)

STORY = "The river feeds the town.\n\nWe ask the council to act: https://river.example"


def photo(size: tuple[int, int] = (640, 480), fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format=fmt)
    return out.getvalue()


async def at_story(tg: Driver, api: FakeTelegramApi) -> dict:
    chat = private(ORGANISER)
    await tg.say(ORGANISER, chat, "/newcampaign")
    await tg.say(ORGANISER, chat, "Clean rivers now")
    await tg.skip_variants(ORGANISER, await tg.say(ORGANISER, chat, "Join us #rivers"))
    await tg.say(ORGANISER, chat, "0")
    networks = api.message(await tg.say(ORGANISER, chat, "in 2 days"))
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:net:sandbox")
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:networks_done")
    return networks


async def send_photo(tg: Driver, api: FakeTelegramApi, data: bytes) -> ApiCall:
    chat = private(ORGANISER)
    since = api.mark()
    api.send_photo(ORGANISER, chat, data)
    return await api.wait_for("sendMessage", lambda c: c.chat_id == chat["id"], since=since)


async def test_a_story_and_a_photo_reach_the_campaign(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    await at_story(tg, api)
    asked = await tg.say(ORGANISER, private(ORGANISER), STORY)
    assert asked.text == render(t("dialog.ask_picture"), "en")
    assert callbacks(asked) == ["dlg:skip", "dlg:cancel"]

    preview = await send_photo(tg, api, photo())
    [get_file] = [c for c in api.calls if c.method == "getFile"]
    assert get_file.params["file_id"].startswith("AgAC-full-")  # the largest size
    assert api.downloads == [f"photos/{get_file.params['file_id']}.jpg"]
    assert f"Story: {STORY}" in preview.text
    assert "Picture: attached" in preview.text

    since = api.mark()
    await tg.press_and_see_edit(ORGANISER, api.message(preview), "dlg:submit")
    (campaign,) = await core.repo.campaigns_in([CampaignStatus.PENDING_REVIEW])
    assert campaign.story == STORY and campaign.picture is not None
    kept = await core.chat.dialogs.pictures.load(campaign.picture)
    assert kept is not None and kept.content_type == "image/jpeg"
    with Image.open(io.BytesIO(kept.data)) as image:
        assert image.size == (640, 480)
    card = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
    )
    assert STORY in card.text
    link = f"{core.settings.public_url}/pictures/{campaign.picture}"
    assert render(t("moderation.picture_link", url=link), "en") in card.text


async def test_text_where_a_photo_is_expected_is_explained(
    tg: Driver, api: FakeTelegramApi
) -> None:
    networks = await at_story(tg, api)
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    reply = await tg.say(ORGANISER, private(ORGANISER), "my picture is on my laptop")
    assert reply.text == "\n\n".join(
        render(t(key), "en") for key in ("picture.expected", "dialog.ask_picture")
    )


async def test_a_photo_too_big_is_refused_without_downloading_it(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    networks = await at_story(tg, api)
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    big = photo() + b"\0" * (core.settings.picture_max_bytes + 1)
    reply = await send_photo(tg, api, big)
    assert reply.text.startswith(render(t("picture.too_big", max_mb="5"), "en"))
    assert api.downloads == [] and not [c for c in api.calls if c.method == "getFile"]


async def test_a_file_that_is_no_picture_is_refused(tg: Driver, api: FakeTelegramApi) -> None:
    networks = await at_story(tg, api)
    await tg.press_and_see_edit(ORGANISER, networks, "dlg:skip")
    reply = await send_photo(tg, api, b"GIF89a" + b"\0" * 100)
    assert reply.text.startswith(render(t("picture.bad_type"), "en"))
    assert callbacks(reply) == ["dlg:skip", "dlg:cancel"]


async def test_a_photo_outside_the_picture_step_is_not_fetched(
    tg: Driver, api: FakeTelegramApi
) -> None:
    await at_story(tg, api)
    reply = await send_photo(tg, api, photo())
    assert reply.text.startswith(render(t("picture.unexpected"), "en"))
    assert api.downloads == []
