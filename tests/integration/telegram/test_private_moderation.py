"""MODERATION_IN_PRIVATE without a moderation chat: each listed moderator gets the card in
their private chat, decides there with the same buttons, and nobody else can."""

from __future__ import annotations

import pytest

from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.text import t
from bot.i18n import render
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes import telegram_builders as tb
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.integration.telegram.conftest import (
    LISTED_MODERATOR,
    MODERATOR,
    STRANGER,
    Driver,
    private,
    ref_of,
    waiting_campaign,
)

JSON = dict


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, without a moderation chat but with private moderation."""
    return settings.model_copy(
        update={
            "telegram_moderation_chat_id": None,
            "moderation_in_private": True,
            "telegram_moderator_ids": [str(MODERATOR["id"]), str(LISTED_MODERATOR["id"])],
        }
    )


async def cards(api: FakeTelegramApi, since: int) -> dict[int, JSON]:
    """The moderation card in each moderator's private chat, by moderator id."""
    found: dict[int, JSON] = {}
    for person in (MODERATOR, LISTED_MODERATOR):
        call = await api.wait_for(
            "sendMessage", lambda c, p=person: c.chat_id == p["id"], since=since
        )
        found[person["id"]] = api.message(call)
    return found


async def test_each_moderator_gets_the_card_privately_and_one_decides_for_all(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    since = api.mark()
    campaign = await waiting_campaign(core, clock)
    posted = await cards(api, since)
    for card in posted.values():
        assert "Clean rivers now" in card["text"]
        assert f"approve:{campaign.id}" in [b.get("callback_data") for b in tb.buttons(card)]

    since = api.mark()
    answered = await tg.press(
        LISTED_MODERATOR, posted[LISTED_MODERATOR["id"]], f"approve:{campaign.id}"
    )
    assert answered.params["text"] == render(
        t("moderation.approved", title=campaign.title, ref=campaign.ref), "en"
    )
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.LIVE
    assert stored.decided_by == ref_of(LISTED_MODERATOR)
    for person in (MODERATOR, LISTED_MODERATOR):
        edited = await api.wait_for(
            "editMessageText",
            lambda c, p=person: c.chat_id == p["id"],
            since=since,
        )
        assert "✅ Approved by Milo" in edited.text
        assert tb.buttons(api.message(edited)) == []


async def test_someone_not_listed_cannot_use_a_private_card(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    since = api.mark()
    campaign = await waiting_campaign(core, clock)
    card = (await cards(api, since))[MODERATOR["id"]]
    answered = await tg.press_raw(STRANGER, card, f"approve:{campaign.id}")
    assert answered.params["show_alert"] is True
    assert answered.params["text"] == render(t("moderation.not_moderator"), "en")
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


async def test_reject_in_private_asks_the_reason_there(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    since = api.mark()
    campaign = await waiting_campaign(core, clock)
    card = (await cards(api, since))[MODERATOR["id"]]
    since = api.mark()
    await tg.press(MODERATOR, card, f"reject:{campaign.id}")
    prompt_call = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == MODERATOR["id"] and "force_reply" in c.params["reply_markup"],
        since=since,
    )
    prompt = api.message(prompt_call)
    # an unrelated reply in the same private chat is not the reason
    other = await tg.say(MODERATOR, private(MODERATOR), "hello", reply_to=card)
    assert other.text == render(t("telegram.unknown_text"), "en")
    done = await tg.say(MODERATOR, private(MODERATOR), "Off topic for us", reply_to=prompt)
    assert done.text == render(
        t("moderation.rejected", title=campaign.title, ref=campaign.ref), "en"
    )
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.REJECTED
    assert stored.reject_reason == "Off topic for us"


async def test_a_moderator_who_blocked_the_bot_does_not_stop_the_others(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    api.block(MODERATOR["id"])
    since = api.mark()
    campaign = await waiting_campaign(core, clock)
    call: ApiCall = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == LISTED_MODERATOR["id"], since=since
    )
    assert campaign.ref in call.text
    assert campaign.id is not None
    [posted] = await core.repo.cards_of(campaign.id)
    assert posted.message.chat.id == str(LISTED_MODERATOR["id"])
