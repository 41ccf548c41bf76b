"""/stats on Telegram through the Bot API fake: the organiser gets the chart as a real
multipart ``sendPhoto`` (a PNG that decodes) with the figures as caption, ``/stats REF csv``
a ``sendDocument`` CSV that parses back; a moderator may look; strangers, groups and bad
input are refused."""

from __future__ import annotations

import csv
import io

import aiohttp
from PIL import Image

from bot.app import Chorus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi, Upload
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    LISTED_MODERATOR,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    live_campaign,
    private,
    ref_of,
    sandbox_profile,
)


async def pledged(core: Chorus, ref: str, person: dict, remote: str) -> None:
    ticket = core.links.read(core.links.issue(ref, ref_of(person)))
    await core.pledges.record(ticket, sandbox_profile(remote, f"h{remote}"))


async def test_the_organiser_gets_the_chart_and_the_figures(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await pledged(core, campaign.ref, SUPPORTER, "r1")
    await pledged(core, campaign.ref, FRENCH, "r2")

    since = api.mark()
    api.say(ORGANISER, private(ORGANISER), f"/stats {campaign.ref.lower()}")
    call = await api.wait_for("sendPhoto", since=since)

    assert call.chat_id == ORGANISER["id"]
    photo = call.params["photo"]
    assert isinstance(photo, Upload)
    image = Image.open(io.BytesIO(photo.data))
    assert (image.format, image.size, image.mode) == ("PNG", (640, 360), "RGB")
    caption = str(call.params["caption"])
    assert caption.startswith(f"📊 Figures of “Clean rivers now” ({campaign.ref})")
    assert "2 supporters, 2 pledged account(s)." in caption
    assert "Reach: 300 followers." in caption
    assert "• sandbox: 2 / 0" in caption
    assert "• telegram chat: 2" in caption


async def test_csv_export_is_a_document_that_parses_back(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await pledged(core, campaign.ref, SUPPORTER, "r1")

    since = api.mark()
    api.say(ORGANISER, private(ORGANISER), f"/stats {campaign.ref} CSV")
    call = await api.wait_for("sendDocument", since=since)

    document = call.params["document"]
    assert isinstance(document, Upload)
    assert document.filename == f"chorus-{campaign.ref}.csv"
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))
    assert [(r["network"], r["source"], r["status"], r["reach"]) for r in rows] == [
        ("sandbox", "telegram", "pledged", "150")
    ]
    text = document.data.decode("utf-8-sig")
    assert "hr1" not in text and str(SUPPORTER["id"]) not in text
    assert call.result["document"]["file_name"] == document.filename


async def test_a_moderator_may_look_a_stranger_may_not(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)

    refused = await tg.say(STRANGER, private(STRANGER), f"/stats {campaign.ref}")
    assert refused.text == render(t("campaign.not_yours", ref=campaign.ref), "en")
    assert api.find("sendPhoto") == []

    since = api.mark()
    api.say(LISTED_MODERATOR, private(LISTED_MODERATOR), f"/stats {campaign.ref}")
    call = await api.wait_for("sendPhoto", since=since)
    assert "No pledges yet." in str(call.params["caption"])


async def test_bad_input_is_explained(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    usage = render(t("stats.usage"), "en")
    assert (await tg.say(ORGANISER, private(ORGANISER), "/stats")).text == usage
    assert (await tg.say(ORGANISER, private(ORGANISER), "/stats A B C")).text == usage
    assert (await tg.say(ORGANISER, private(ORGANISER), "/stats K7QX2M pdf")).text == usage
    missing = await tg.say(ORGANISER, private(ORGANISER), "/stats ZZZZZZ")
    assert missing.text == render(t("campaign.not_found", ref="ZZZZZZ"), "en")
    in_group = await tg.say(ORGANISER, GROUP, "/stats ZZZZZZ")
    assert in_group.text == render(t("telegram.private_only"), "en")
    assert api.find("sendPhoto") == [] and api.find("sendDocument") == []


async def test_the_fake_refuses_uploads_as_telegram_does(api: FakeTelegramApi) -> None:
    """The wire fake's own checks, so a bot bug there cannot pass unnoticed."""
    base = f"{api.url}/bot{api.token}"

    async def send(method: str, field: str, data: bytes, **extra: str) -> tuple[int, str]:
        form = aiohttp.FormData()
        form.add_field("chat_id", str(ORGANISER["id"]))
        for name, value in extra.items():
            form.add_field(name, value)
        form.add_field(field, data, filename="f.bin", content_type="application/octet-stream")
        async with aiohttp.ClientSession() as http, http.post(f"{base}/{method}", data=form) as r:
            return r.status, (await r.json())["description" if r.status != 200 else "ok"]

    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, format="PNG")
    assert await send("sendPhoto", "photo", b"not an image") == (
        400,
        "Bad Request: IMAGE_PROCESS_FAILED",
    )
    assert (await send("sendPhoto", "photo", png.getvalue(), caption="x" * 1025))[0] == 400
    assert await send("sendPhoto", "photo", png.getvalue()) == (200, True)
    assert (await send("sendDocument", "document", b""))[0] == 400
    assert (await send("sendDocument", "photo", b"a,b"))[0] == 400  # no document part
