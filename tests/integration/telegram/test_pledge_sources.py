"""Where supporters came from, through the Bot API fake: a group card's Support deep link
names the group (``REF_c<chat id>``), the pledge made with the link it leads to records
that group, and /stats counts it by chat; a forged or unknown chat in a payload is
ignored (the source is then unknown), never an error."""

from __future__ import annotations

import csv
import io

from adapters.telegram.refs import INLINE_CHAT
from adapters.telegram.render import support_payload
from bot.app import Chorus
from bot.domain.refs import ChatRef
from bot.services.sources import split_chat
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramApi, Upload
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    JSON,
    MODERATION_CHAT,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    live_campaign,
    pledge_token,
    private,
    sandbox_profile,
    urls,
)


async def test_a_pledge_through_a_group_cards_deep_link_records_that_group(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    card = await tg.promote(ORGANISER, GROUP, campaign.ref)
    payload = f"{campaign.ref}_c{GROUP['id']}"
    assert urls(card) == [f"https://t.me/{BOT_USERNAME}?start={payload}"]
    assert len(payload) <= 64

    intro = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {payload}")
    ticket = core.links.read(pledge_token(intro))
    assert ticket.source_chat == f"telegram:{GROUP['id']}"
    pledge = await core.pledges.record(ticket, sandbox_profile("r1"))
    stored = await core.repo.get_pledge(pledge.id or 0)
    assert stored is not None and stored.source_chat == f"telegram:{GROUP['id']}"

    since = api.mark()
    api.say(ORGANISER, private(ORGANISER), f"/stats {campaign.ref}")
    caption = str((await api.wait_for("sendPhoto", since=since)).params["caption"])
    assert "By chat whose card they pressed:" in caption
    assert f"• {GROUP['id']} (telegram): 1" in caption

    since = api.mark()
    api.say(ORGANISER, private(ORGANISER), f"/stats {campaign.ref} csv")
    document = (await api.wait_for("sendDocument", since=since)).params["document"]
    assert isinstance(document, Upload)
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))
    assert [r["chat"] for r in rows] == [f"telegram:{GROUP['id']}"]


async def test_forged_and_unknown_chats_in_a_payload_are_ignored(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await tg.promote(ORGANISER, GROUP, campaign.ref)

    async def source_of(person: JSON, payload: str) -> str | None:
        intro = await tg.say(person, private(person), f"/start {payload}")
        return core.links.read(pledge_token(intro)).source_chat

    # a chat the campaign has no card in, a malformed id, an empty one: source unknown
    assert await source_of(SUPPORTER, f"{campaign.ref}_c-100999") is None
    assert await source_of(STRANGER, f"{campaign.ref}_c-10x") is None
    assert await source_of(FRENCH, f"{campaign.ref}_c") is None
    # the moderators' chat has the campaign's moderation card, not a promoted one
    assert await source_of(SUPPORTER, f"{campaign.ref}_c{MODERATION_CHAT['id']}") is None
    # the card's own chat, for another campaign's ref: no card of that one there
    other = await live_campaign(core, clock, title="Other one")
    assert await source_of(SUPPORTER, f"{other.ref}_c{GROUP['id']}") is None
    # the plain forms still work
    assert await source_of(SUPPORTER, campaign.ref) is None
    assert await source_of(SUPPORTER, campaign.ref.lower()) is None


def test_only_group_and_channel_cards_name_their_chat_and_only_when_it_fits() -> None:
    assert support_payload("K7QX2M", ChatRef("telegram", "-100300")) == "K7QX2M_c-100300"
    assert support_payload("K7QX2M", ChatRef("telegram", "4242")) == "K7QX2M"  # private
    assert support_payload("K7QX2M", ChatRef("telegram", INLINE_CHAT)) == "K7QX2M"
    assert support_payload("K7QX2M", None) == "K7QX2M"
    assert support_payload("R" * 50, ChatRef("telegram", "-1001234567890")) == "R" * 50
    assert split_chat("K7QX2M_c-100300") == ("K7QX2M", "-100300")
    assert split_chat("K7QX2M_ABCDEFGH") == ("K7QX2M_ABCDEFGH", None)  # a recruit code
    assert split_chat("K7QX2M_c1_c2") == ("K7QX2M_c1", "2")  # the recruit check refuses it
    assert split_chat("_c-1") == ("_c-1", None)
