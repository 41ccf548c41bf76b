"""Fixtures for the Telegram front end: the loopback Bot API, a real core on SQLite built
with the real ``TelegramOutbound``, the real ``TelegramInbound`` polling it, the cast of
people and chats, and a driver that says things and presses buttons the way Telegram
clients do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from telegram.ext import Application

from adapters.networks.mastodon import MASTODON
from adapters.networks.sandbox import SANDBOX
from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from bot.app import Chorus, build_chorus
from bot.dialog import CampaignDraft
from bot.domain.account import LinkedProfile, SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.networks import Network
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET
from tests.fakes import telegram_builders as tb
from tests.fakes.networks import registry_of
from tests.fakes.telegram_api import FAKE_TOKEN, ApiCall, FakeTelegramApi

JSON = dict

ORGANISER = tb.user(1001, "Olive", last_name="Organiser", username="olive")
MODERATOR = tb.user(2001, "Maya", last_name="Moderator")  # admin of the moderation chat
LISTED_MODERATOR = tb.user(2002, "Milo")  # listed in TELEGRAM_MODERATOR_IDS
STRANGER = tb.user(3001, "Sam", last_name="Stranger")
SUPPORTER = tb.user(4001, "Sacha", last_name="Supporter")
FRENCH = tb.user(5001, "Françoise", language_code="fr-FR")
GROUP_ADMIN = tb.user(6001, "Gabi", last_name="Admin")

MODERATION_CHAT = tb.group_chat(-100200, "Chorus moderators")
GROUP = tb.group_chat(-100300, "Climate friends")


def private(person: JSON) -> JSON:
    return tb.private_chat(person)


def ref_of(person: JSON) -> UserRef:
    """The ``UserRef`` the front end builds for ``person``."""
    name = " ".join(p for p in (person["first_name"], person.get("last_name")) if p)
    language = "fr" if str(person.get("language_code", "")).startswith("fr") else "en"
    return UserRef("telegram", str(person["id"]), name, language)


@dataclass
class StubNetwork:
    """The account side of a social network; posting is not what these tests are about."""

    network: Network
    revoked: list[int] = field(default_factory=list)

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        return PostOutcome(OutcomeKind.POSTED, remote_id="1")

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return "https://example.invalid/compose"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        return []

    async def refresh(self, account: SocialAccount) -> TokenSet:
        return account.tokens

    async def revoke(self, account: SocialAccount) -> None:
        assert account.id is not None
        self.revoked.append(account.id)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    await fake.start()
    fake.make_admin(MODERATION_CHAT["id"], MODERATOR["id"])
    fake.make_admin(GROUP["id"], GROUP_ADMIN["id"], owner=True)
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def settings(api: FakeTelegramApi) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_url=api.url,
        telegram_moderation_chat_id=str(MODERATION_CHAT["id"]),
        telegram_moderator_ids=[str(LISTED_MODERATOR["id"])],
        public_url="http://127.0.0.1:8080",
        default_timezone="UTC",
        default_language="en",
        min_lead_minutes=60,
    )


@pytest.fixture
def networks() -> dict[Network, StubNetwork]:
    return {n: StubNetwork(n) for n in (MASTODON, SANDBOX)}


@pytest.fixture
def application(settings: Settings) -> Application:  # type: ignore[type-arg]
    return build_application(settings)


@pytest.fixture
def outbound(settings: Settings, application: Application) -> TelegramOutbound:  # type: ignore[type-arg]
    return TelegramOutbound(settings, application.bot)


def telegram_core(
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    outbound: TelegramOutbound,
    networks: dict[Network, StubNetwork],
) -> Chorus:
    """A core whose only chat front end is Telegram's ``outbound`` side."""
    return build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=registry_of(settings, networks),  # type: ignore[arg-type]
        front_ends=[outbound],
        card_delay_seconds=0,
    )


@pytest.fixture
def core(
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    networks: dict[Network, StubNetwork],
    outbound: TelegramOutbound,
) -> Chorus:
    return telegram_core(settings, repo, clock, outbound, networks)


@pytest.fixture
async def front_end(
    core: Chorus,
    application: Application,  # type: ignore[type-arg]
    api: FakeTelegramApi,
) -> AsyncIterator[TelegramInbound]:
    front = TelegramInbound(application, core.chat, poll_timeout=2)
    await front.start()
    try:
        yield front
    finally:
        await front.stop()


@dataclass
class Driver:
    """Says things and presses buttons like a Telegram client, and waits for the bot."""

    api: FakeTelegramApi
    core: Chorus

    async def say(
        self, person: JSON, chat: JSON, text: str, *, reply_to: JSON | None = None
    ) -> ApiCall:
        """Send ``text``; return the bot's first message in that chat afterwards."""
        since = self.api.mark()
        self.api.say(person, chat, text, reply_to=reply_to)
        return await self.api.wait_for(
            "sendMessage", lambda c: c.chat_id == chat["id"], since=since
        )

    async def settle(self, person: JSON) -> None:
        """Wait until the bot has finished every earlier update from ``person``.

        The front end handles one person's updates in order, so once a later /help from
        them is answered, what they asked before is done (the card is stored, …).
        """
        await self.say(person, private(person), "/help")

    async def promote(self, person: JSON, chat: JSON, ref: str) -> ApiCall:
        """``/promote ref`` in ``chat``; returns the card once the core has stored it."""
        card = await self.say(person, chat, f"/promote {ref}")
        await self.settle(person)
        return card

    async def press(self, person: JSON, message: JSON, data: str) -> ApiCall:
        """Press the button ``data`` (it must be on ``message``); return the bot's answer."""
        current = self.api.messages[(message["chat"]["id"], message["message_id"])]
        assert data in [b.get("callback_data") for b in tb.buttons(current)], tb.buttons(current)
        return await self.press_raw(person, current, data)

    async def press_raw(self, person: JSON, message: JSON, data: str) -> ApiCall:
        since = self.api.mark()
        query_id = self.api.press(person, message, data)
        return await self.api.wait_for(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            since=since,
        )

    async def skip_variants(self, person: JSON, asked: ApiCall) -> ApiCall:
        """Press Skip on the optional variants question ``asked``; return the next question."""
        assert "dlg:variants_done" in callbacks(asked)
        return await self.press_and_see_edit(person, self.api.message(asked), "dlg:variants_done")

    async def press_and_see_edit(self, person: JSON, message: JSON, data: str) -> ApiCall:
        """Press a dialog button; return the edit that replaced the message."""
        since = self.api.mark()
        await self.press(person, message, data)
        return await self.api.wait_for(
            "editMessageText",
            lambda c: (
                c.params.get("message_id") == message["message_id"]
                and c.chat_id == message["chat"]["id"]
            ),
            since=since,
        )


@pytest.fixture
def tg(api: FakeTelegramApi, core: Chorus, front_end: TelegramInbound) -> Driver:
    return Driver(api, core)


def urls(call: ApiCall) -> list[str]:
    return [b["url"] for b in call.buttons if "url" in b]


def callbacks(call: ApiCall) -> list[str]:
    return [b["callback_data"] for b in call.buttons if "callback_data" in b]


async def waiting_campaign(
    core: Chorus, clock: FakeClock, title: str = "Clean rivers now", *, days: int = 2
) -> Campaign:
    """A campaign submitted through the core and waiting for moderation (set-up)."""
    draft = CampaignDraft(
        title=title,
        message="Our rivers deserve better #cleanrivers",
        goal=10,
        launch_at=clock.now() + timedelta(days=days),
        networks=(SANDBOX,),
    )
    return await core.campaigns.submit(draft, ref_of(ORGANISER))


async def live_campaign(
    core: Chorus, clock: FakeClock, *, goal: int = 4, title: str = "Clean rivers now"
) -> Campaign:
    """A campaign submitted and approved through the core (set-up, not under test)."""
    draft = CampaignDraft(
        title=title,
        message="Our rivers deserve better #cleanrivers https://example.org/rivers",
        goal=goal,
        launch_at=clock.now() + timedelta(days=3),
        networks=(SANDBOX,),
    )
    submitted = await core.campaigns.submit(draft, ref_of(ORGANISER))
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, ref_of(MODERATOR), may_moderate=True)


def sandbox_profile(remote_id: str = "r1", handle: str = "sacha") -> LinkedProfile:
    return LinkedProfile(
        network=SANDBOX,
        instance="sandbox",
        remote_id=remote_id,
        handle=handle,
        followers=150,
        tokens=TokenSet("test-token-not-real"),
    )


def pledge_token(call: ApiCall, public_url: str = "http://127.0.0.1:8080") -> str:
    """The signed token in the Pledge button's URL."""
    (url,) = [u for u in urls(call) if u.startswith(f"{public_url}/pledge/")]
    return url.rsplit("/", 1)[1]
