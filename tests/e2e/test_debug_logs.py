"""A whole campaign through ``chorus run`` at ``LOG_LEVEL=DEBUG``: no secret in the logs.

``chorus run`` talks to loopback fakes of Telegram, Discord, X and Mastodon. Two supporters ask
the bot in Telegram for their pledge link and pledge over real HTTP through the pledge
site and the networks' OAuth (X as a confidential client); the process is stopped, the
launch moved a few seconds ahead, and a second run launches: a Mastodon status goes out
and the X supporter gets a tap link in Telegram, which they open. Then every secret the
fakes handed out (tokens, codes, app secrets), every pledge and tap token, every OAuth
state and PKCE verifier, and the configured secrets are searched for in both logs.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import build_chorus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.settings import Settings
from storage import open_repository
from tests.e2e.test_crash_recovery import GUARD, chorus_env, start_chorus, wait_for
from tests.fakes import telegram_builders as tb
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.loopback import LoopbackFake
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.pledge_site import free_port
from tests.fakes.telegram_api import FAKE_TOKEN, ApiCall, FakeTelegramApi
from tests.fakes.x_api import FakeX
from tests.integration.web.test_pledge_flow import pledge

SECRET = "debug-e2e-secret-not-real-5f0c1a9e7d3b"
X_SECRET = "x-client-secret-not-real-8a7b6c"
LINK_RE = re.compile(r"/(?:pledge|tap)/([^/?#\s\"']+)")
SECRET_FIELDS = ("code", "code_verifier", "state", "token", "client_secret", "refresh_token")
ORGANISER = UserRef("console", "organiser", "Olga")
MODERATOR = UserRef("console", "moderator", "Mo")
XAVIER = tb.user(7001, "Xavier")
MAYA = tb.user(7002, "Maya")


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegramApi, FakeX, FakeMastodon]]:
    telegram, x, mastodon = FakeTelegramApi(), FakeX(), FakeMastodon()
    await telegram.start()
    await x.start()
    await mastodon.start()
    x.client_secret = X_SECRET
    try:
        yield telegram, x, mastodon
    finally:
        await telegram.close()
        await x.close()
        await mastodon.close()


async def live_campaign(repo: Repository) -> Campaign:
    settings = Settings(_env_file=None, min_lead_minutes=0)  # type: ignore[call-arg]
    core = build_chorus(settings, repo, SystemClock(), secret=SECRET)
    draft = CampaignDraft(
        title="Quiet logs",
        message="Logs keep secrets #QuietLogs https://chorus.example/logs",
        goal=0,
        launch_at=datetime.now(UTC) + timedelta(hours=1),
        networks=(X, MASTODON),
    )
    submitted = await core.campaigns.submit(draft, ORGANISER)
    return await core.moderation.approve(submitted.id or 0, MODERATOR, may_moderate=True)


async def ask_and_pledge(
    telegram: FakeTelegramApi, browser: aiohttp.ClientSession, person: dict, ref: str, **how: str
) -> None:
    """``/start REF`` in the bot's private chat, then the pledge page and the OAuth trip."""
    since = telegram.mark()
    telegram.say(person, tb.private_chat(person), f"/start {ref}")
    intro = await telegram.wait_for(
        "sendMessage", lambda c: c.chat_id == person["id"], since=since, within=GUARD
    )
    [link] = [b["url"] for b in intro.buttons if "/pledge/" in b.get("url", "")]
    status, html, _ = await pledge(browser, link, **how)  # type: ignore[arg-type]
    assert status == 200, html


def handed_out(
    telegram: FakeTelegramApi, fakes: list[LoopbackFake], fake_handouts: list[str]
) -> set[str]:
    """Every secret that went over the wire in this test."""
    found = {SECRET, X_SECRET, FAKE_TOKEN, FAKE_TOKEN.split(":")[1], *fake_handouts}
    for call in telegram.calls:
        texts = [call.text, *(b.get("url", "") for b in call.buttons)]
        found.update(m.group(1) for text in texts for m in LINK_RE.finditer(text))
    for fake in fakes:
        for request in fake.requests:
            form = parse_qs(request.body) if "=" in request.body else {}
            for name in SECRET_FIELDS:
                found.update(form.get(name, []))
                if name in request.query:
                    found.add(request.query[name])
            bearer = request.headers.get("Authorization", "")
            if bearer.startswith(("Bearer ", "Basic ")):
                found.add(bearer.split(" ", 1)[1])
    return {secret for secret in found if len(secret) >= 8}


def running(tmp_path: Path, name: str) -> bool:
    return "chorus is running" in (tmp_path / f"{name}.log").read_text(encoding="utf-8")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), GUARD)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_a_whole_campaign_at_debug_logs_no_token_code_link_or_secret(
    tmp_path: Path, fakes: tuple[FakeTelegramApi, FakeX, FakeMastodon], fake_discord: FakeDiscord
) -> None:
    telegram, x, mastodon = fakes
    database_url = f"sqlite:///{tmp_path / 'chorus.sqlite3'}"
    repo = await open_repository(database_url, TokenCipher(SECRET))
    port = free_port()
    env = chorus_env(tmp_path, database_url)
    env.update(
        SECRET_KEY=SECRET,
        LOG_LEVEL="DEBUG",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        WEB_PORT=str(port),
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_URL=telegram.url,
        TELEGRAM_MODERATION_CHAT_ID="-100200",
        DISCORD_BOT_TOKEN=fake_discord.token,
        DISCORD_API_URL=fake_discord.api_url,
        DISCORD_MODERATION_CHANNEL_ID=fake_discord.channels["moderation"]["id"],
        DISCORD_MODERATOR_ROLE_ID=fake_discord.moderator_role["id"],
        X_CLIENT_ID="x-client-id",
        X_CLIENT_SECRET=X_SECRET,
        X_API_URL=x.url,
        X_AUTHORIZE_URL=f"{x.url}/i/oauth2/authorize",
        X_DELIVERY="tap",
        MASTODON_DELIVERY="auto",
    )
    try:
        await repo.migrate()
        campaign = await live_campaign(repo)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            # first run: both supporters pledge, through X and through Mastodon
            first = await start_chorus(tmp_path, env, "pledges")
            try:
                await wait_for(lambda: running(tmp_path, "pledges"), "chorus to start", first)
                await ask_and_pledge(telegram, browser, XAVIER, campaign.ref, network="x")
                await ask_and_pledge(
                    telegram,
                    browser,
                    MAYA,
                    campaign.ref,
                    network="mastodon",
                    instance=mastodon.host,
                )
            finally:
                await stop(first)
            assert first.returncode == 0
            stored = await repo.get_campaign(campaign.id or 0)
            assert stored is not None
            await repo.update_campaign(
                replace(stored, launch_at=datetime.now(UTC) + timedelta(seconds=3))
            )

            # second run: the launch, a Mastodon status and a tap link opened by Xavier
            since = telegram.mark()
            second = await start_chorus(tmp_path, env, "launch")
            try:
                await wait_for(lambda: sum(mastodon.posts.values()) == 1, "the status", second)
                offer: ApiCall = await telegram.wait_for(
                    "sendMessage",
                    lambda c: c.chat_id == XAVIER["id"] and any("/tap/" in u for u in urls(c)),
                    since=since,
                    within=GUARD,
                )
                [tap] = [u for u in urls(offer) if "/tap/" in u]
                async with browser.get(tap, allow_redirects=False) as opened:
                    assert opened.status in (302, 303), await opened.text()
            finally:
                await stop(second)
            assert second.returncode == 0
    finally:
        await repo.close()

    logs = "".join(
        (tmp_path / f"{name}.log").read_text(encoding="utf-8") for name in ("pledges", "launch")
    )
    secrets = handed_out(
        telegram, [x, mastodon], [fake_discord.token, *x.handed_out, *mastodon.handed_out]
    )
    assert len(x.handed_out) >= 3 and len(mastodon.handed_out) >= 3  # tokens, codes, app
    # the chat libraries log requests at DEBUG (X's OAuth and profile calls go through
    # aiohttp, which logs none; tweepy only posts, and this campaign's X pledge is tap)
    assert all(f" DEBUG {name}." in logs for name in ("telegram", "discord"))
    leaked = sorted(secret for secret in secrets if secret in logs)
    assert leaked == [], [line for line in logs.splitlines() if any(s in line for s in leaked)]
    assert "[REDACTED]" in logs  # the libraries did try


def urls(call: ApiCall) -> list[str]:
    return [b["url"] for b in call.buttons if "url" in b]
