"""TELEGRAM_WEBHOOK=true: Telegram POSTs updates to the pledge site, which feeds them to
python-telegram-bot. The loopback Bot API registers the webhook the bot sets, then
delivers every update as Telegram does (a POST with the secret header); anyone else's POST
without the secret, with a wrong one, with no update in it or too big is refused and
nothing reaches the bot."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from telegram.ext import Application

from adapters.telegram.client import build_application
from adapters.telegram.inbound import ALLOWED_UPDATES, TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from adapters.telegram.webhook import MAX_BODY_BYTES, SECRET_HEADER, webhook_path, webhook_routes
from bot.app import Chorus, build_chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import Network
from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET
from tests.fakes import telegram_builders as tb
from tests.fakes.networks import registry_of
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi
from tests.integration.telegram.conftest import (
    LISTED_MODERATOR,
    MODERATION_CHAT,
    ORGANISER,
    Driver,
    StubNetwork,
    callbacks,
    private,
    telegram_core,
)

WEBHOOK_SECRET = "wh-secret-not-real-7Hq2Lx9Pz4Nc8Vb3Mk6"


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """The web app's socket, bound first so PUBLIC_URL can name its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture
def settings(api: FakeTelegramApi, listening: socket.socket) -> Settings:
    port = listening.getsockname()[1]
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_url=api.url,
        telegram_moderation_chat_id=str(MODERATION_CHAT["id"]),
        telegram_moderator_ids=[str(LISTED_MODERATOR["id"])],
        telegram_webhook=True,
        telegram_webhook_secret=WEBHOOK_SECRET,
        public_url=f"http://127.0.0.1:{port}",
        min_lead_minutes=60,
    )


@pytest.fixture
def core(
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    networks: dict[Network, StubNetwork],
    outbound: TelegramOutbound,
    application: Application,  # type: ignore[type-arg]
) -> Chorus:
    """Wired as ``chorus run`` wires it: the webhook's route mounted on the pledge site."""
    return build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=registry_of(settings, networks),  # type: ignore[arg-type]
        front_ends=[outbound],
        card_delay_seconds=0,
        web_routes=webhook_routes(settings, application),
    )


@pytest.fixture
async def front_end(
    core: Chorus,
    application: Application,  # type: ignore[type-arg]
    listening: socket.socket,
) -> AsyncIterator[TelegramInbound]:
    runner = web.AppRunner(core.web_app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listening).start()
    front = TelegramInbound(application, core.chat)
    await front.start()
    try:
        yield front
    finally:
        await front.stop()
        await runner.cleanup()


def hook_url(settings: Settings) -> str:
    return settings.public_url + webhook_path(WEBHOOK_SECRET)


async def test_the_leader_sets_the_webhook_with_the_secret_and_keeps_pending_updates(
    tg: Driver, api: FakeTelegramApi, settings: Settings
) -> None:
    (call,) = api.find("setWebhook")
    assert call.params == {
        "url": hook_url(settings),
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
    }
    assert WEBHOOK_SECRET not in call.params["url"]
    assert api.find("getUpdates") == []  # no polling: Telegram would refuse it (409)
    info = await api._api_getWebhookInfo({})
    assert info["url"] == hook_url(settings)


async def test_a_newcampaign_step_and_a_button_press_arrive_by_webhook(
    tg: Driver, api: FakeTelegramApi, core: Chorus
) -> None:
    organiser = private(ORGANISER)
    ask = await tg.say(ORGANISER, organiser, "/newcampaign")
    assert ask.text == render(t("dialog.ask_title"), "en")
    ask = await tg.say(ORGANISER, organiser, "Clean rivers now")
    assert ask.text == render(t("dialog.ask_message", limit=500), "en")
    ask = await tg.say(ORGANISER, organiser, "Our rivers deserve better #cleanrivers")
    assert ask.text == render(t("variants.ask", max=5), "en")
    assert callbacks(ask) and "dlg:variants_done" in callbacks(ask)
    ask = await tg.skip_variants(ORGANISER, ask)  # a button press, through the webhook
    assert ask.text == render(t("dialog.ask_goal"), "en")
    assert ask.chat_id == ORGANISER["id"]
    assert api.delivered and {status for _, status in api.delivered} == {200}
    assert api.find("getUpdates") == []
    assert await core.repo.campaigns_in([CampaignStatus.PENDING_REVIEW]) == []


def help_update(update_id: int = 99) -> dict[str, object]:
    message = tb.text_message(1, ORGANISER, private(ORGANISER), "/help")
    return {**tb.message_update(0, message), "update_id": update_id}


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong-secret-not-real-000000000000000", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x"],
)
async def test_a_post_without_the_right_secret_is_refused_and_not_processed(
    tg: Driver, api: FakeTelegramApi, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    since = api.mark()
    with caplog.at_level(logging.INFO):
        status = await api.post_to_webhook(help_update(), secret=secret)
    assert status == 403
    await tg.settle(ORGANISER)  # a later update, delivered by Telegram, is answered ...
    answered = api.find("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert len(answered) == 1  # ... and it is the only one
    assert "without the right secret token" in caplog.text
    assert WEBHOOK_SECRET not in caplog.text


async def test_any_other_path_is_not_found(tg: Driver, api: FakeTelegramApi) -> None:
    for path in ("/telegram/", "/telegram/guess", webhook_path("another-secret-not-real-00000")):
        assert await api.post_to_webhook(help_update(), secret=WEBHOOK_SECRET, path=path) == 404


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'"update"',
        b"{}",
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "hello"}',
    ],
)
async def test_a_body_that_is_not_an_update_is_refused_with_400(
    tg: Driver, api: FakeTelegramApi, body: bytes
) -> None:
    since = api.mark()
    assert await api.post_to_webhook(body, secret=WEBHOOK_SECRET) == 400
    await tg.settle(ORGANISER)
    assert len(api.find("sendMessage", since=since)) == 1


async def test_an_oversized_body_is_refused_unread(tg: Driver, api: FakeTelegramApi) -> None:
    update = help_update()
    padded = {**update, "padding": "x" * MAX_BODY_BYTES}
    assert await api.post_to_webhook(padded, secret=WEBHOOK_SECRET) == 413


async def test_the_secret_header_is_the_one_telegram_sends(
    tg: Driver, api: FakeTelegramApi
) -> None:
    since = api.mark()
    headers = {SECRET_HEADER.lower(): WEBHOOK_SECRET}
    assert await api.post_to_webhook(help_update(500), secret=None, headers=headers) == 200
    await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)


async def test_back_to_polling_the_webhook_is_deleted_and_updates_are_polled(
    tg: Driver,
    api: FakeTelegramApi,
    front_end: TelegramInbound,
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    networks: dict[Network, StubNetwork],
) -> None:
    await front_end.stop()  # the deployment restarts with TELEGRAM_WEBHOOK=false
    polling = settings.model_copy(update={"telegram_webhook": False})
    application = build_application(polling)
    outbound = TelegramOutbound(polling, application.bot)
    core = telegram_core(polling, repo, clock, outbound, networks)
    since = api.mark()
    front = TelegramInbound(application, core.chat, poll_timeout=2)
    await front.start()
    try:
        (deleted,) = api.find("deleteWebhook", since=since)
        assert deleted.params.get("drop_pending_updates") in (None, False)
        assert (await api._api_getWebhookInfo({}))["url"] == ""
        answer = await tg.say(ORGANISER, private(ORGANISER), "/help")
        assert answer.chat_id == ORGANISER["id"]
        assert api.find("getUpdates", since=since)
    finally:
        await front.stop()


async def test_an_oversized_body_without_a_length_is_cut_off(
    tg: Driver, api: FakeTelegramApi, settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"update_id": 1, "padding": "'
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b"x" * 4096
        yield b'"}'

    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(hook_url(settings), data=chunks(), headers=headers) as response,
    ):
        assert response.status == 413


async def test_a_large_update_in_many_chunks_is_read_whole(
    tg: Driver, api: FakeTelegramApi, settings: Settings
) -> None:
    text = json.dumps({**help_update(600), "padding": "x" * (MAX_BODY_BYTES - 4096)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(text), 1000):
            yield text[start : start + 1000]

    since = api.mark()
    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(hook_url(settings), data=chunks(), headers=headers) as response,
    ):
        assert response.status == 200
    await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
