"""Moderators in the moderation chat: who may press Approve and Reject, the reason for a
rejection, and two moderators pressing at the same moment."""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import Application

from adapters.networks.sandbox import SANDBOX
from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from bot.app import Chorus
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import Network
from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.integration.telegram.conftest import (
    LISTED_MODERATOR,
    MODERATION_CHAT,
    MODERATOR,
    ORGANISER,
    STRANGER,
    Driver,
    StubNetwork,
    ref_of,
    telegram_core,
)

JSON = dict


async def pending(core: Chorus, clock: FakeClock, api: FakeTelegramApi) -> tuple[Campaign, JSON]:
    """A campaign waiting for moderation, and its card in the moderation chat."""
    since = api.mark()
    draft = CampaignDraft(
        title="Clean rivers now",
        message="Our rivers deserve better #cleanrivers",
        goal=10,
        launch_at=clock.now() + timedelta(days=2),
        networks=(SANDBOX,),
    )
    campaign = await core.campaigns.submit(draft, ref_of(ORGANISER))
    card = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
    )
    return campaign, api.message(card)


async def test_reject_asks_a_reason_that_reaches_the_organiser(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign, card = await pending(core, clock, api)
    since = api.mark()
    answered = await tg.press(MODERATOR, card, f"reject:{campaign.id}")
    assert answered.params["text"] == render(t("telegram.reason_asked"), "en")
    prompt_call = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == MODERATION_CHAT["id"] and "force_reply" in c.params["reply_markup"],
        since=since,
    )
    assert f"reason for rejecting {campaign.ref}" in prompt_call.text
    prompt = api.message(prompt_call)

    # talk in the chat that is not a reply to the prompt is not taken as the reason
    api.say(MODERATOR, MODERATION_CHAT, "let me think about it")
    chatter = api.say(STRANGER, MODERATION_CHAT, "not my call", reply_to=prompt)
    assert chatter["reply_to_message"]["message_id"] == prompt["message_id"]

    since = api.mark()
    done = await tg.say(MODERATOR, MODERATION_CHAT, "Too vague: say what to do", reply_to=prompt)
    assert done.text == render(
        t("moderation.rejected", title=campaign.title, ref=campaign.ref), "en"
    )
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.REJECTED
    assert stored.reject_reason == "Too vague: say what to do"
    assert stored.decided_by == ref_of(MODERATOR)
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert told.text == render(
        t("organiser.rejected", title=campaign.title, reason="Too vague: say what to do"), "en"
    )
    edited = await api.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == card["message_id"], since=since
    )
    assert "❌ Rejected by Maya Moderator" in edited.text
    assert "Too vague: say what to do" in edited.text


async def test_strangers_cannot_reject(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign, card = await pending(core, clock, api)
    since = api.mark()
    answered = await tg.press(STRANGER, card, f"reject:{campaign.id}")
    assert answered.params["show_alert"] is True
    assert answered.params["text"] == render(t("moderation.not_moderator"), "en")
    assert api.find("sendMessage", since=since) == []
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.PENDING_REVIEW


async def test_a_listed_moderator_may_approve_without_being_admin(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign, card = await pending(core, clock, api)
    answered = await tg.press(LISTED_MODERATOR, card, f"approve:{campaign.id}")
    assert answered.params["text"] == render(
        t("moderation.approved", title=campaign.title, ref=campaign.ref), "en"
    )
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.LIVE
    assert stored.decided_by == ref_of(LISTED_MODERATOR)


async def test_two_moderators_at_once_only_one_decides(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign, card = await pending(core, clock, api)
    since = api.mark()
    # both presses are in the same getUpdates batch and handled concurrently
    queries = {
        api.press(MODERATOR, card, f"approve:{campaign.id}"): ref_of(MODERATOR),
        api.press(LISTED_MODERATOR, card, f"approve:{campaign.id}"): ref_of(LISTED_MODERATOR),
    }
    answers: dict[str, ApiCall] = {}
    for query_id in queries:
        answers[query_id] = await api.wait_for(
            "answerCallbackQuery",
            lambda c, q=query_id: c.params["callback_query_id"] == q,  # type: ignore[misc]
            since=since,
        )
    winners = [q for q, a in answers.items() if not a.params.get("show_alert")]
    losers = [q for q, a in answers.items() if a.params.get("show_alert")]
    assert len(winners) == 1 and len(losers) == 1
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.LIVE
    assert stored.decided_by == queries[winners[0]]
    assert answers[losers[0]].params["text"] in (
        render(t("error.stale"), "en"),
        render(t("campaign.cannot_live", ref=campaign.ref, status="live"), "en"),
    )
    await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert len(api.find("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since)) == 1


async def test_a_decided_card_cannot_be_decided_again(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign, card = await pending(core, clock, api)
    # keep a copy of the card with its buttons, as a slow client still shows it
    old_card = {**card}
    await tg.press(MODERATOR, card, f"approve:{campaign.id}")
    again = await tg.press_raw(MODERATOR, old_card, f"reject:{campaign.id}")
    assert again.params["show_alert"] is True
    assert again.params["text"] == render(
        t("campaign.cannot_rejected", ref=campaign.ref, status="live"), "en"
    )
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE


async def test_reject_reason_survives_a_restart_between_press_and_reply(
    api: FakeTelegramApi,
    core: Chorus,
    application: Application,  # type: ignore[type-arg]
    clock: FakeClock,
    settings: Settings,
    repo: Repository,
    networks: dict[Network, StubNetwork],
) -> None:
    first = TelegramInbound(application, core.chat, poll_timeout=2)
    await first.start()
    try:
        campaign, card = await pending(core, clock, api)
        since = api.mark()
        await Driver(api, core).press(MODERATOR, card, f"reject:{campaign.id}")
        prompt_call = await api.wait_for(
            "sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since=since
        )
        prompt = api.message(prompt_call)
    finally:
        await first.stop()

    # a new process: a new application and core on the same database
    restarted = build_application(settings)
    core = telegram_core(
        settings, repo, clock, TelegramOutbound(settings, restarted.bot), networks
    )
    second = TelegramInbound(restarted, core.chat, poll_timeout=2)
    await second.start()
    try:
        await Driver(api, core).say(MODERATOR, MODERATION_CHAT, "Off topic", reply_to=prompt)
        stored = await core.campaigns.get(campaign.ref)
        assert stored.status is CampaignStatus.REJECTED
        assert stored.reject_reason == "Off topic"
    finally:
        await second.stop()
