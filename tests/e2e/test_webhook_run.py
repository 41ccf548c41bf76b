"""``chorus run`` with TELEGRAM_WEBHOOK=true at LOG_LEVEL=DEBUG: the process sets the webhook
at the loopback Bot API, which then delivers updates by POST to the process's own web app;
a command is answered, a stranger's POST without the secret is refused, the process stops
cleanly on SIGTERM, and neither the webhook secret nor the path derived from it is in the
log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.telegram.inbound import ALLOWED_UPDATES
from adapters.telegram.webhook import webhook_path
from tests.e2e.test_crash_recovery import chorus_env, start_chorus, wait_for
from tests.e2e.test_debug_logs import running, stop
from tests.fakes import telegram_builders as tb
from tests.fakes.pledge_site import free_port
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi

HOOK_SECRET = "e2e-hook-secret-not-real-Q8w3Zr5Tx1Ym7Kp"
ORGANISER = tb.user(8001, "Olga")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def test_chorus_run_takes_telegram_updates_by_webhook_and_logs_no_secret(
    tmp_path: Path, telegram: FakeTelegramApi
) -> None:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    env = chorus_env(tmp_path, f"sqlite:///{tmp_path / 'chorus.sqlite3'}")
    env.update(
        LOG_LEVEL="DEBUG",
        PUBLIC_URL=public_url,
        WEB_PORT=str(port),
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_URL=telegram.url,
        TELEGRAM_MODERATION_CHAT_ID="-100200",
        TELEGRAM_WEBHOOK="true",
        TELEGRAM_WEBHOOK_SECRET=HOOK_SECRET,
    )
    process = await start_chorus(tmp_path, env, "webhook")
    try:
        await wait_for(lambda: running(tmp_path, "webhook"), "chorus to start", process)
        (set_webhook,) = telegram.find("setWebhook")
        assert set_webhook.params == {
            "url": public_url + webhook_path(HOOK_SECRET),
            "secret_token": HOOK_SECRET,
            "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": False,
        }

        since = telegram.mark()
        telegram.say(ORGANISER, tb.private_chat(ORGANISER), "/help")
        answer = await telegram.wait_for(
            "sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since, within=60
        )
        assert "/newcampaign" in answer.text
        assert telegram.find("getUpdates") == []

        stranger = {"update_id": 4242, "message": {"text": "/help"}}
        assert await telegram.post_to_webhook(stranger, secret="not-the-secret-0000") == 403
    finally:
        await stop(process)
    assert process.returncode == 0
    log = (tmp_path / "webhook.log").read_text(encoding="utf-8")
    assert "updates by webhook" in log
    assert "without the right secret token" in log
    assert HOOK_SECRET not in log
    assert webhook_path(HOOK_SECRET).rsplit("/", 1)[1] not in log
    assert FAKE_TOKEN.split(":")[1] not in log
