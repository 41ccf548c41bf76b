"""Post now on Telegram: the real front end over the loopback Bot API at a tap launch.

A supporter who blocked the bot (403 on every private message) still gets their link
from the card: the callback answer opens the bot through a deep link, and /start there
hands the link over. A supporter the bot can reach gets it privately; a stranger gets a
clear alert; the report counts the unreachable and those served by the card apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.networks.x import X
from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from bot.domain.cards import CardKind, PostedCard
from bot.domain.events import EventKind
from bot.domain.refs import ChatRef, UserRef
from bot.ports import Repository
from bot.services.cards import campaign_card
from bot.testing.clock import FakeClock
from tests.fakes import telegram_builders as tb
from tests.fakes.telegram_api import BOT_USERNAME, FAKE_TOKEN, ApiCall, FakeTelegramApi
from tests.unit.blast.harness import MESSAGE, make_world, settings

ORGANISER = UserRef("telegram", "1001", "Olive", "en")
SACHA_JSON = tb.user(4001, "Sacha")
SACHA = UserRef("telegram", "4001", "Sacha", "en")
FRANCOISE_JSON = tb.user(5001, "Françoise", language_code="fr")
FRANCOISE = UserRef("telegram", "5001", "Françoise", "fr")
STRANGER_JSON = tb.user(3001, "Sam")
GROUP_JSON = tb.group_chat(-100300, "Climate friends")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


def to(api: FakeTelegramApi, person: UserRef, since: int = 0) -> list[ApiCall]:
    return api.find("sendMessage", lambda c: c.chat_id == int(person.id), since)


async def answer_to(api: FakeTelegramApi, query_id: str) -> ApiCall:
    return await api.wait_for(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query_id
    )


async def test_post_now_from_the_card_reaches_a_supporter_who_blocked_the_bot(
    repo: Repository, clock: FakeClock, api: FakeTelegramApi
) -> None:
    overrides = {"telegram_bot_token": FAKE_TOKEN, "telegram_api_url": api.url}
    world_settings = settings(**overrides)
    application = build_application(world_settings)
    outbound = TelegramOutbound(world_settings, application.bot)
    world = await make_world(repo, clock, front_ends=[outbound], **overrides)
    telegram = TelegramInbound(application, world.core.chat, poll_timeout=1)
    await telegram.start()
    try:
        campaign = await world.campaign(networks=(X,), organiser=ORGANISER, promote=False)
        assert campaign.id is not None
        sacha, _ = await world.supporter(campaign, network=X, followers=40, person=SACHA)
        francoise, _ = await world.supporter(campaign, network=X, followers=7, person=FRANCOISE)
        # the card in a group, as /promote posts it
        stats = await repo.campaign_stats(campaign.id)
        group = ChatRef("telegram", str(GROUP_JSON["id"]))
        posted = await outbound.send(group, campaign_card(campaign, stats), "en")
        await repo.add_card(PostedCard(campaign.id, CardKind.PROMOTION, posted, clock.now(), "en"))
        api.block(int(SACHA.id))  # Sacha blocked the bot: the offer cannot reach them

        await world.go(campaign.launch_at)
        await world.core.cards.flush()
        assert to(api, SACHA) == []
        assert len(to(api, FRANCOISE)) == 1
        assert await repo.event_claimed(campaign.id, EventKind.TAP_UNREACHABLE, sacha.id)
        card = api.messages[(GROUP_JSON["id"], int(posted.id))]
        buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == [{"text": "📤 Post now", "callback_data": f"postnow:{campaign.ref}"}]
        assert "Press Post now" in card["text"]
        assert "📤 Posted: 0 of 2" in card["text"]

        # Sacha presses Post now: the bot cannot write to them, so the answer opens the bot
        query = api.press(SACHA_JSON, card, f"postnow:{campaign.ref}")
        answer = await answer_to(api, query)
        deep_link = f"https://t.me/{BOT_USERNAME}?start=post-{campaign.ref}"
        assert answer.params["url"] == deep_link
        assert "cannot write to you privately" in answer.params["text"]

        # in the bot's chat Telegram sends /start post-<ref>; the link comes in the reply
        api.blocked.discard(int(SACHA.id))
        mark = api.mark()
        api.say(SACHA_JSON, tb.private_chat(SACHA_JSON), f"/start post-{campaign.ref}")
        reply = await api.wait_for("sendMessage", lambda c: c.chat_id == 4001, since=mark)
        link = world.core.tap_links.url(campaign, sacha)
        assert reply.buttons == [{"text": "Post on X", "url": link}]
        assert MESSAGE in reply.text

        # Françoise is reachable: her link comes privately again, the alert says so
        mark = api.mark()
        query = api.press(FRANCOISE_JSON, card, f"postnow:{campaign.ref}")
        answer = await answer_to(api, query)
        assert answer.params["show_alert"] is True
        assert "conversation privée" in answer.params["text"]
        (again,) = to(api, FRANCOISE, mark)
        assert again.buttons == [
            {"text": "Publier sur X", "url": world.core.tap_links.url(campaign, francoise)}
        ]

        # a stranger gets a clear answer and nothing else
        mark = api.mark()
        query = api.press(STRANGER_JSON, card, f"postnow:{campaign.ref}")
        answer = await answer_to(api, query)
        assert "for the supporters of" in answer.params["text"]
        assert "url" not in answer.params
        assert api.find("sendMessage", lambda c: c.chat_id == 3001, mark) == []

        # the report: Sacha unreachable (and did not post), apart from Françoise who was
        # reached and did not post; both got their link from the card
        await world.go(campaign.launch_at + timedelta(minutes=120))
        (report,) = to(api, ORGANISER)
        assert "not posted: 1" in report.text
        assert "Could not be written to privately (and did not post): 1" in report.text
        assert "got their link from the card: 2" in report.text
        await world.core.cards.flush()
        card = api.messages[(GROUP_JSON["id"], int(posted.id))]
        assert "reply_markup" not in card or not card["reply_markup"]["inline_keyboard"]
    finally:
        await telegram.stop()
