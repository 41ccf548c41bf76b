"""The Bluesky loop through Discord over real HTTP: the organiser picks Bluesky in the
form (the message limit becomes Bluesky's), a supporter presses Support and pledges on the
pledge site with AT Protocol OAuth against the fakes, the launch writes the post on the
fake PDS (DPoP checked), and the organiser's report counts it with the account's reach."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.networks.bluesky_setup import build_bluesky
from adapters.networks.bluesky_spec import BLUESKY
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.atproto_world import AtprotoWorld
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import DiscordHarness, discord_settings, start_bot
from tests.integration.discord.test_campaign_loop import FORM as LOOP_FORM
from tests.integration.discord.test_campaign_loop import custom_ids
from tests.integration.networks.bluesky_kit import CLIENT_KEY
from tests.integration.web.test_pledge_flow import get, submit

FORM = {**LOOP_FORM, "goal": "1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[AtprotoWorld]:
    async with AtprotoWorld(now=clock.now) as fakes:
        yield fakes


@pytest.fixture
async def bot(
    fake_discord: FakeDiscord,
    repo: Repository,
    clock: FakeClock,
    tmp_path: Path,
    world: AtprotoWorld,
) -> AsyncIterator[DiscordHarness]:
    settings = discord_settings(
        fake_discord,
        tmp_path,
        public_url=f"http://127.0.0.1:{_free_port()}",
        bluesky_client_key=CLIENT_KEY,
        blast_concurrency=4,
        **world.settings_values(),
    )
    network, linker = build_bluesky(
        settings, repo, clock=clock, lookup=world.lookup, handle_url=world.handle_url
    )
    documents = linker.documents()
    world.auth.register_client(documents["client-metadata"], documents["jwks"])
    harness = await start_bot(
        fake_discord, settings, repo, clock, more=({BLUESKY: network}, {BLUESKY: linker})
    )
    runner = web.AppRunner(harness.core.web_app, access_log=None)
    await runner.setup()
    port = int(settings.public_url.rsplit(":", 1)[1])
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield harness
    finally:
        await runner.cleanup()
        await harness.stop()
        await network.aclose()


async def test_bluesky_campaign_on_discord_from_form_to_report(
    bot: DiscordHarness, world: AtprotoWorld, clock: FakeClock
) -> None:
    fake, core = bot.fake, bot.core
    sam = world.add("sam.test", followers=777)

    # the organiser fills the form and chooses Bluesky
    command = await fake.slash("organiser", "newcampaign", channel="general")
    modal = (await fake.reply_to(command))["modal"]
    submitted = await fake.submit_modal("organiser", modal["custom_id"], FORM, channel="general")
    networks = await fake.reply_to(submitted)
    assert "chorus:dlg:net:bluesky" in custom_ids(networks)
    toggled = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:net:bluesky")
    )
    assert "✅ Bluesky" in fake.text_of(toggled)
    asked = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )
    for _optional in ("story", "picture"):
        asked = await fake.reply_to(await fake.press("organiser", asked["id"], "chorus:dlg:skip"))
    done = await fake.reply_to(await fake.press("organiser", asked["id"], "chorus:dlg:submit"))
    assert "has been sent to the moderators" in fake.text_of(done)
    organiser = UserRef("discord", fake.people["organiser"].id)
    (campaign,) = await core.repo.campaigns_of(organiser)
    assert campaign.networks == (BLUESKY,) and campaign.id is not None
    await core.moderation.approve(campaign.id, organiser, may_moderate=True)

    # promoted; a supporter presses Support and pledges on the site with their handle
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    (public,) = [m for m in fake.channel_messages("general") if m.get("embeds")]
    support = await fake.reply_to(
        await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
    )
    (button,) = FakeDiscord.buttons(support)
    link = button["url"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        status, html, response = await submit(browser, link, "bluesky", instance="sam.test")
        assert status == 303, html
        status, html, response = await get(browser, response.headers["Location"])
        assert status == 302, html
        status, html, _ = await get(browser, response.headers["Location"])
        assert status == 200, html
    thanks = await fake.wait_for(lambda: fake.dm_messages("supporter"), what="supporter DM")
    assert "@sam.test" in thanks[-1]["content"]

    # the launch: one post on the PDS, and the report counts it with its reach
    stored = await core.repo.get_campaign(campaign.id)
    assert stored is not None
    clock.set(campaign.launch_at)
    launched = await core.blast.launch(stored)
    assert launched.status is CampaignStatus.LAUNCHED
    (record,) = world.pds.records.values()
    assert record.uri.startswith(f"at://{sam.did}/app.bsky.feed.post/")
    assert record.value["text"] == FORM["message"]
    (pledge,) = await core.repo.pledges_of_campaign(campaign.id)
    assert pledge.status is PledgeStatus.POSTED

    def reported() -> bool:
        return any("777" in m["content"] for m in fake.dm_messages("organiser"))

    await fake.wait_for(reported, what="the report")
