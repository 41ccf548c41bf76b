"""The whole Bluesky loop through Telegram, over real HTTP everywhere: a campaign on
Bluesky, a supporter pledging on the pledge site with AT Protocol OAuth against the fakes
(handle, PLC directory, PAR, DPoP tokens), the launch in auto mode (a post written on the
fake PDS, with a DPoP proof it checks) or in tap mode (a compose link, the post read back
from the AppView), the report with the post and the reach, the grant revoked at the fake
authorization server once the campaign is over, or at once on /forget."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram.ext import Application

from adapters.networks.bluesky import BlueskyNetwork, record_key
from adapters.networks.bluesky_setup import build_bluesky
from adapters.networks.bluesky_spec import BLUESKY
from adapters.telegram.outbound import TelegramOutbound
from bot.app import Chorus, build_chorus
from bot.dialog import CampaignDraft
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.conftest import TEST_SECRET
from tests.fakes.atproto_world import AtprotoWorld
from tests.fakes.networks import registry_of
from tests.fakes.telegram_api import FAKE_TOKEN, FakeTelegramApi
from tests.integration.networks.bluesky_kit import CLIENT_KEY
from tests.integration.telegram.conftest import (
    MODERATION_CHAT,
    MODERATOR,
    ORGANISER,
    SUPPORTER,
    Driver,
    callbacks,
    private,
    ref_of,
    urls,
)
from tests.integration.web.test_pledge_flow import get, submit

MESSAGE = "Rivers are alive 🌊 #CleanRivers https://example.org/rivers"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld(now=clock.now) as fakes:
        yield fakes


@pytest.fixture(params=["auto", "tap"])
def delivery(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(api: FakeTelegramApi, world: AtprotoWorld, delivery: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=FAKE_TOKEN,
        telegram_api_url=api.url,
        telegram_moderation_chat_id=str(MODERATION_CHAT["id"]),
        public_url=f"http://127.0.0.1:{_free_port()}",
        default_timezone="UTC",
        default_language="en",
        min_lead_minutes=60,
        bluesky_client_key=CLIENT_KEY,
        bluesky_delivery=delivery,
        blast_concurrency=4,
        **world.settings_values(),
    )


@pytest.fixture
async def bluesky(
    settings: Settings, repo: Repository, clock: FakeClock, world: AtprotoWorld
) -> AsyncIterator[BlueskyNetwork]:
    network, linker = build_bluesky(
        settings, repo, clock=clock, lookup=world.lookup, handle_url=world.handle_url
    )
    documents = linker.documents()
    world.auth.register_client(documents["client-metadata"], documents["jwks"])
    network.linker = linker  # type: ignore[attr-defined]
    yield network
    await network.aclose()


@pytest.fixture
async def core(
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    outbound: TelegramOutbound,
    application: Application,  # type: ignore[type-arg]
    bluesky: BlueskyNetwork,
) -> AsyncIterator[Chorus]:
    registry = registry_of(
        settings,
        {BLUESKY: bluesky},  # type: ignore[dict-item]
        linkers={BLUESKY: bluesky.linker},  # type: ignore[attr-defined]
    )
    built = build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=registry,
        front_ends=[outbound],
        card_delay_seconds=0,
    )
    runner = web.AppRunner(built.web_app, access_log=None)
    await runner.setup()
    port = int(settings.public_url.rsplit(":", 1)[1])
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield built
    finally:
        await runner.cleanup()


async def _live(core: Chorus, clock: FakeClock) -> Campaign:
    draft = CampaignDraft(
        title="Clean rivers now",
        message=MESSAGE,
        goal=1,
        launch_at=clock.now() + timedelta(days=2),
        networks=(BLUESKY,),
    )
    submitted = await core.campaigns.submit(draft, ref_of(ORGANISER))
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, ref_of(MODERATOR), may_moderate=True)


async def _pledge_on_the_site(
    tg: Driver, core: Chorus, world: AtprotoWorld, campaign: Campaign
) -> None:
    intro = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}")
    (link,) = [u for u in urls(intro) if "/pledge/" in u]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        status, html, _ = await get(browser, link)
        assert "Your Bluesky handle" in html and "Pledge with Bluesky" in html
        assert "300" in html  # the Bluesky limit is shown
        status, html, response = await submit(browser, link, "bluesky", instance="sacha.test")
        assert status == 303, html
        status, html, response = await get(browser, response.headers["Location"])  # PAR'd
        assert status == 302, html
        status, html, _ = await get(browser, response.headers["Location"])  # the callback
        assert status == 200, html


async def test_bluesky_pledge_launch_and_report(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    world: AtprotoWorld,
    delivery: str,
) -> None:
    sacha = world.add("sacha.test", followers=321)
    campaign = await _live(core, clock)
    assert campaign.id is not None

    since = api.mark()
    await _pledge_on_the_site(tg, core, world, campaign)
    thanks = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == SUPPORTER["id"] and "Thank you" in c.text,
        since=since,
    )
    assert "@sacha.test" in thanks.text
    (pledge,) = await core.repo.pledges_of_campaign(campaign.id)
    account = await core.repo.get_account(pledge.account_id)
    assert account is not None and (account.remote_id, account.followers) == (sacha.did, 321)
    granted = [g for g in world.auth.grants if g.did == sacha.did]
    assert [g.scope.split() for g in granted] == [
        ["atproto", "repo:app.bsky.feed.post?action=create"] if delivery == "auto" else ["atproto"]
    ]

    # the launch
    clock.set(campaign.launch_at)
    since = api.mark()
    stored = await core.repo.get_campaign(campaign.id)
    assert stored is not None
    launched = await core.blast.launch(stored)
    assert launched.status is CampaignStatus.LAUNCHED
    if delivery == "auto":
        rkey = record_key(f"chorus-{pledge.id}", core.settings.public_url)
        uri = f"at://{sacha.did}/app.bsky.feed.post/{rkey}"
        assert list(world.pds.records) == [uri]
        assert world.pds.records[uri].value["text"] == MESSAGE
        assert world.pds.records[uri].value["langs"] == ["en"]
    else:
        assert not world.pds.records  # no write scope, nothing written by Chorus
        offer = await api.wait_for(
            "sendMessage", lambda c: c.chat_id == SUPPORTER["id"] and urls(c), since=since
        )
        assert any("/tap/" in u or "bsky.app/intent/compose" in u for u in urls(offer))
        # the supporter posts in the Bluesky app; the AppView shows it
        world.appview.add_post(sacha.did, MESSAGE, clock.now() + timedelta(minutes=2), rkey="3l2")
        clock.advance(timedelta(minutes=30))
        await core.blast.report(launched)
    report = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == ORGANISER["id"] and "321" in c.text,
        since=since,
    )
    assert "Clean rivers now" in report.text
    (done,) = await core.repo.pledges_of_campaign(campaign.id)
    assert done.status is PledgeStatus.POSTED
    assert done.remote_post_url and done.remote_post_url.startswith(
        f"https://bsky.app/profile/{sacha.did}/post/"
    )

    # the campaign is over: its grant is released and revoked at the server
    await core.revocations.retry_pending()
    assert all(g.revoked for g in granted)


async def test_forget_revokes_the_grant_at_the_authorization_server(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    world: AtprotoWorld,
    delivery: str,
) -> None:
    sacha = world.add("sacha.test", followers=5)
    campaign = await _live(core, clock)
    await _pledge_on_the_site(tg, core, world, campaign)
    granted = [g for g in world.auth.grants if g.did == sacha.did]
    assert granted and not any(g.revoked for g in granted)

    confirm = await tg.say(SUPPORTER, private(SUPPORTER), "/forget")
    (yes,) = [c for c in callbacks(confirm) if c.endswith(":yes")]
    since = api.mark()
    await tg.press(SUPPORTER, api.message(confirm), yes)
    erased = await api.wait_for(
        "editMessageText",
        lambda c: c.chat_id == SUPPORTER["id"] and "Erased" in c.text,
        since=since,
    )
    assert "could not withdraw" not in erased.text
    assert all(g.revoked for g in granted)
    assert world.auth.seen("POST", "/oauth/revoke")
