"""One-tap delivery seen from Telegram: the real front end over the loopback Bot API.

The blast's messages go through ``TelegramOutbound`` (python-telegram-bot, rate limiter
included) to the fake Bot API, which refuses what Telegram refuses in a keyboard. The
supporters' side of X is the in-memory network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import pytest

from adapters.networks.x import X
from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FAKE_TOKEN, ApiCall, FakeTelegramApi
from tests.unit.blast.harness import MESSAGE, make_world, settings
from tests.unit.blast.tap_site import tap_site

ORGANISER = UserRef("telegram", "1001", "Olive", "en")
SACHA = UserRef("telegram", "4001", "Sacha", "en")
FRANCOISE = UserRef("telegram", "5001", "Françoise", "fr")
COMPOSE = f"https://fake.example/x/compose?text={quote(MESSAGE)}"


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


def to(api: FakeTelegramApi, person: UserRef) -> list[ApiCall]:
    return api.find("sendMessage", lambda c: c.chat_id == int(person.id))


async def test_tap_offer_reminder_and_report_over_telegram(
    repo: Repository, clock: FakeClock, api: FakeTelegramApi
) -> None:
    overrides = {"telegram_bot_token": FAKE_TOKEN, "telegram_api_url": api.url}
    application = build_application(settings(**overrides))
    outbound = TelegramOutbound(settings(**overrides), application.bot)
    world = await make_world(repo, clock, front_ends=[outbound], **overrides)  # X defaults to tap
    telegram = TelegramInbound(application, world.core.chat, poll_timeout=1)
    await telegram.start()
    try:
        campaign = await world.campaign(networks=(X,), organiser=ORGANISER, promote=False)
        sacha, sacha_account = await world.supporter(
            campaign, network=X, followers=40, person=SACHA
        )
        francoise, _ = await world.supporter(campaign, network=X, followers=7, person=FRANCOISE)
        await world.go(campaign.launch_at)

        # each supporter: one private message with a URL button, our short link to their
        # pledge, which redirects to the prefilled compose screen
        links = world.core.tap_links
        sacha_link = links.url(campaign, sacha)
        francoise_link = links.url(campaign, francoise)
        (offer,) = to(api, SACHA)
        assert offer.buttons == [{"text": "Post on X", "url": sacha_link}]
        assert "launching now" in offer.text and MESSAGE in offer.text
        (offre,) = to(api, FRANCOISE)
        assert offre.buttons == [{"text": "Publier sur X", "url": francoise_link}]
        async with tap_site(world.core) as site:
            assert await site.follow(sacha_link) == (303, COMPOSE)
            assert await site.follow(francoise_link) == (303, COMPOSE)
        assert "part maintenant" in offre.text
        assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
        assert (await world.pledge(sacha)).delivery is DeliveryState.TAP_OFFERED
        assert to(api, ORGANISER) == []  # the report waits for the read-back window

        # Sacha taps and posts; after TAP_REMINDER_MINUTES only Françoise is nudged
        world.x.user_posts(sacha_account, MESSAGE, at=campaign.launch_at + timedelta(minutes=1))
        await world.go(campaign.launch_at + timedelta(minutes=30))
        assert len(to(api, SACHA)) == 1
        assert (await world.pledge(sacha)).status is PledgeStatus.POSTED
        reminder = to(api, FRANCOISE)[-1]
        assert len(to(api, FRANCOISE)) == 2
        assert "pas encore vu votre publication" in reminder.text
        assert reminder.buttons == [{"text": "Publier sur X", "url": francoise_link}]

        # the report: one tapped and confirmed, one not posted, the reach of the one
        await world.go(campaign.launch_at + timedelta(minutes=120))
        (report,) = to(api, ORGANISER)
        assert "Posted with one tap: 1 · not posted: 1 · opened their link: 2" in report.text
        assert "Total reach: 40 followers" in report.text
        assert "Failed" not in report.text
        assert "https://fake.example/x/status/" in report.text
        assert len(to(api, FRANCOISE)) == 2  # not posting is not a failure notice
        unconfirmed = await world.pledge(francoise)
        assert (unconfirmed.status, unconfirmed.failure_reason) == (
            PledgeStatus.FAILED,
            "not_posted",
        )
    finally:
        await telegram.stop()
