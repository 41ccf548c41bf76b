"""Two ``chorus run`` on one PostgreSQL schema with TELEGRAM_WEBHOOK=true: only the leader
registers the webhook; SIGKILL it, and the other registers it again and takes the updates.

Each process talks to its own loopback Bot API (the same bot seen twice), so what each
asks of Telegram is told apart, and each has its own PUBLIC_URL, so the webhook the
second one sets points at it. The follower still serves the webhook route: an update
POSTed to its web app is answered. It never calls setWebhook, getUpdates or
setMyCommands until it leads.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.telegram.webhook import SECRET_HEADER, webhook_path
from tests.e2e.test_crash_recovery import chorus_env, start_chorus, wait_for
from tests.e2e.test_debug_logs import stop
from tests.fakes import telegram_builders as tb
from tests.fakes.pledge_site import free_port
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi
from tests.integration.conftest import _postgres_admin, postgres_url, with_schema

pytestmark = pytest.mark.postgres
HOOK_SECRET = "e2e-failover-secret-not-real-Vb7Nq2"
LEADS = "this process leads"
ORGANISER = tb.user(8201, "Olga")


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    admin = await _postgres_admin()
    schema = f"chorus_e2e_{uuid.uuid4().hex[:16]}"
    try:
        yield with_schema(postgres_url(), schema)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # name built above
        await admin.close()


@pytest.fixture
async def apis() -> AsyncIterator[tuple[FakeTelegramApi, FakeTelegramApi]]:
    first, second = FakeTelegramApi(), FakeTelegramApi()
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def webhook_env(tmp_path: Path, database_url: str, api: FakeTelegramApi) -> dict[str, str]:
    port = free_port()
    return chorus_env(tmp_path, database_url) | {
        "LEADER_POLL_SECONDS": "1",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
        "TELEGRAM_API_URL": api.url,
        "TELEGRAM_MODERATION_CHAT_ID": "-100200",
        "TELEGRAM_WEBHOOK": "true",
        "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
    }


def log_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text(encoding="utf-8")


async def post_update(public_url: str, text: str, update_id: int) -> int:
    """POST an update to a process's web app as Telegram would, with the secret."""
    message = tb.text_message(update_id, ORGANISER, tb.private_chat(ORGANISER), text)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            public_url + webhook_path(HOOK_SECRET),
            json={"update_id": update_id, "message": message},
            headers={SECRET_HEADER: HOOK_SECRET},
        ) as response,
    ):
        return response.status


async def test_the_follower_sets_the_webhook_once_the_leader_is_killed(
    tmp_path: Path, database_url: str, apis: tuple[FakeTelegramApi, FakeTelegramApi]
) -> None:
    first_api, second_api = apis
    first_env = webhook_env(tmp_path, database_url, first_api)
    second_env = webhook_env(tmp_path, database_url, second_api)
    first = await start_chorus(tmp_path, first_env, "first")
    second: asyncio.subprocess.Process | None = None
    try:
        await wait_for(lambda: "chorus is running" in log_of(tmp_path, "first"), "first", first)
        assert LEADS in log_of(tmp_path, "first")
        (registered,) = first_api.find("setWebhook")
        assert registered.params["url"] == first_env["PUBLIC_URL"] + webhook_path(HOOK_SECRET)

        second = await start_chorus(tmp_path, second_env, "second")
        await wait_for(lambda: "chorus is running" in log_of(tmp_path, "second"), "second", second)
        assert LEADS not in log_of(tmp_path, "second")
        await asyncio.sleep(3)  # a few turns of trying to lead
        assert {call.method for call in second_api.calls} == {"getMe"}

        # the follower serves the webhook route all the same: it answers what lands there
        assert await post_update(second_env["PUBLIC_URL"], "/help", 501) == 200
        answer = await second_api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"])
        assert "/newcampaign" in answer.text

        first.send_signal(signal.SIGKILL)
        await first.wait()
        await wait_for(lambda: LEADS in log_of(tmp_path, "second"), "a take-over", second)
        retaken = await second_api.wait_for("setWebhook", within=60)
        assert retaken.params["url"] == second_env["PUBLIC_URL"] + webhook_path(HOOK_SECRET)
        assert retaken.params["secret_token"] == HOOK_SECRET
        assert second_api.find("setMyCommands")  # the new leader publishes the menu
        assert second_api.find("getUpdates") == []

        # Telegram now delivers to the new leader's address
        since = second_api.mark()
        second_api.say(ORGANISER, tb.private_chat(ORGANISER), "/help")
        answer = await second_api.wait_for(
            "sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since, within=60
        )
        assert "/newcampaign" in answer.text
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
        if second is not None:
            await stop(second)
    assert second is not None and second.returncode == 0
    assert len(first_api.find("setWebhook")) == 1
    assert HOOK_SECRET not in log_of(tmp_path, "second")
