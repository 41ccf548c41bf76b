"""/pending for moderators, and a card whose campaign expired before anyone decided."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes import telegram_builders as tb
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    LISTED_MODERATOR,
    MODERATION_CHAT,
    MODERATOR,
    ORGANISER,
    STRANGER,
    Driver,
    callbacks,
    private,
    waiting_campaign,
)

JSON = dict


async def test_pending_lists_the_waiting_campaigns_oldest_first_with_buttons(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    older = await waiting_campaign(core, clock, "Clean rivers now", days=3)
    clock.advance(timedelta(minutes=1))
    newer = await waiting_campaign(core, clock, "Plant more trees")
    answer = await tg.say(LISTED_MODERATOR, private(LISTED_MODERATOR), "/pending")
    assert answer.text.index(older.ref) < answer.text.index(newer.ref)
    assert "Clean rivers now" in answer.text and "from Olive Organiser" in answer.text
    assert "launch 2030-01-18 12:00 UTC" in answer.text
    assert callbacks(answer) == [
        f"approve:{older.id}",
        f"reject:{older.id}",
        f"approve:{newer.id}",
        f"reject:{newer.id}",
    ]
    labels = [b["text"] for b in answer.buttons]
    assert labels[0] == f"Approve {older.ref}"


async def test_a_button_of_the_list_decides(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await waiting_campaign(core, clock, "Clean rivers now")
    answer = await tg.say(MODERATOR, MODERATION_CHAT, "/pending")
    assert answer.chat_id == MODERATION_CHAT["id"]
    pressed = await tg.press(MODERATOR, api.message(answer), f"approve:{campaign.id}")
    assert pressed.params["text"] == render(
        t("moderation.approved", title=campaign.title, ref=campaign.ref), "en"
    )
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE
    empty = await tg.say(MODERATOR, private(MODERATOR), "/pending")
    assert empty.text == render(t("pending.none"), "en")


async def test_pending_is_refused_to_someone_who_may_not_moderate(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await waiting_campaign(core, clock, "Clean rivers now")
    answer = await tg.say(STRANGER, private(STRANGER), "/pending")
    assert answer.text == render(t("pending.not_moderator"), "en")
    assert campaign.ref not in answer.text and answer.buttons == []
    french = await tg.say(FRENCH, private(FRENCH), "/pending")
    assert french.text == render(t("pending.not_moderator"), "fr")


async def test_pending_in_an_ordinary_group_points_to_the_private_chat(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await waiting_campaign(core, clock, "Clean rivers now")
    answer = await tg.say(MODERATOR, GROUP, "/pending")
    assert answer.text == render(t("telegram.private_only"), "en")
    assert campaign.ref not in answer.text


async def test_an_expired_campaign_closes_its_card_and_tells_the_organiser(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    since = api.mark()
    campaign = await waiting_campaign(core, clock, "Clean rivers now")
    card_call = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
    )
    card = api.message(card_call)
    old_card = {**card}  # as a slow client still shows it, buttons and all
    assert campaign.id is not None

    since = api.mark()
    clock.set(campaign.launch_at)
    await core.expiry.expire(campaign.id)
    edited = await api.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == card["message_id"], since=since
    )
    assert render(t("card.status_expired"), "en") in edited.text
    assert tb.buttons(api.message(edited)) == []
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert "expired" in told.text and campaign.ref in told.text

    again = await tg.press_raw(MODERATOR, old_card, f"approve:{campaign.id}")
    assert again.params["show_alert"] is True
    assert again.params["text"] == render(t("moderation.expired", ref=campaign.ref), "en")
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.EXPIRED
