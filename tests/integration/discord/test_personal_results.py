"""Each supporter's own result after the launch, through the Discord fake: an auto
supporter (English) gets the link to their post, a tap supporter (French, by the locale of
their interactions) a thank-you once the read-back saw their post, both with the totals,
as a DM; a second report run and a restarted process send nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.dialog import CampaignDraft
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.networks import FakeNetwork
from tests.integration.discord.conftest import (
    DiscordHarness,
    build_bot,
    discord_settings,
    start_bot,
)

MESSAGE = "Our rivers deserve better #cleanrivers https://example.org/rivers"
TITLE = "Clean rivers now"


@pytest.fixture
def x_network(repo: Repository, clock: FakeClock) -> FakeNetwork:
    return FakeNetwork(X, clock, repo)  # X delivers by tap; Mastodon (in the harness) auto


@pytest.fixture
async def bot(
    fake_discord: FakeDiscord,
    repo: Repository,
    clock: FakeClock,
    tmp_path: Path,
    x_network: FakeNetwork,
) -> AsyncIterator[DiscordHarness]:
    fake_discord.add_person("francoise")
    harness = await start_bot(
        fake_discord,
        discord_settings(fake_discord, tmp_path),
        repo,
        clock,
        more=({X: x_network}, {}),
    )
    try:
        yield harness
    finally:
        await harness.stop()


async def _live(bot: DiscordHarness) -> Campaign:
    organiser = UserRef("discord", bot.fake.people["organiser"].id, "Organiser", "en")
    draft = CampaignDraft(
        title=TITLE,
        message=MESSAGE,
        goal=2,
        launch_at=bot.clock.now() + timedelta(days=2),
        networks=(MASTODON, X),
    )
    submitted = await bot.core.campaigns.submit(draft, organiser)
    assert submitted.id is not None
    return await bot.core.moderation.approve(submitted.id, organiser, may_moderate=True)


async def _pledge(
    bot: DiscordHarness,
    card: dict[str, Any],
    campaign: Campaign,
    person: str,
    locale: str,
    profile: LinkedProfile,
) -> None:
    fake = bot.fake
    support = await fake.reply_to(
        await fake.press(person, card["id"], f"chorus:support:{campaign.ref}", locale=locale)
    )
    (button,) = FakeDiscord.buttons(support)
    ticket = bot.core.links.read(button["url"].rsplit("/", 1)[1])
    assert ticket.supporter.id == fake.people[person].id
    await bot.core.pledges.record(ticket, profile)


def _results(fake: FakeDiscord, person: str) -> list[str]:
    together = ("Together:", "Ensemble :")
    return [
        m["content"]
        for m in fake.dm_messages(person)
        if any(word in (m.get("content") or "") for word in together)
    ]


async def test_each_supporter_gets_their_own_result_as_a_dm_once(
    bot: DiscordHarness, repo: Repository, clock: FakeClock, x_network: FakeNetwork
) -> None:
    fake, core = bot.fake, bot.core
    campaign = await _live(bot)
    assert campaign.id is not None
    await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    (card,) = [m for m in fake.channel_messages("general") if m.get("embeds")]
    await _pledge(
        bot,
        card,
        campaign,
        "supporter",
        "en-US",
        LinkedProfile(MASTODON, "mastodon.social", "m1", "sam", 40, TokenSet("tok-m")),
    )
    await _pledge(
        bot,
        card,
        campaign,
        "francoise",
        "fr",
        LinkedProfile(X, "x.com", "x1", "francoise", 60, TokenSet("tok-x")),
    )

    # the launch: Mastodon posts at once; the X supporter is offered a compose link
    clock.set(campaign.launch_at)
    stored = await core.repo.get_campaign(campaign.id)
    assert stored is not None
    launched = await core.blast.launch(stored)
    assert launched.status is CampaignStatus.LAUNCHED
    assert _results(fake, "supporter") == [] and _results(fake, "francoise") == []

    # Françoise posts on X herself; the report reads it back
    pledges = {p.network: p for p in await core.repo.pledges_of_campaign(campaign.id)}
    account = await core.repo.get_account(pledges[X].account_id)
    assert account is not None
    x_network.user_posts(account, MESSAGE, at=campaign.launch_at + timedelta(minutes=3))
    clock.advance(timedelta(hours=3))
    await core.blast.report(launched)

    done = {p.network: p for p in await core.repo.pledges_of_campaign(campaign.id)}
    assert done[MASTODON].status is PledgeStatus.POSTED
    assert done[X].status is PledgeStatus.POSTED
    posted_url, tapped_url = done[MASTODON].remote_post_url, done[X].remote_post_url
    assert posted_url and tapped_url

    (english,) = _results(fake, "supporter")
    assert render(t("result.posted", title=TITLE, url=posted_url), "en") in english
    assert "Together: 2 supporters, 2 posts, 100 followers reached." in english
    (french,) = _results(fake, "francoise")
    assert french.startswith(f"🙏 Merci d'avoir publié pour « {TITLE} »")
    assert tapped_url in french
    assert "Ensemble : 2 soutiens, 2 publications, 100 abonnés atteints." in french
    assert "Together" not in french

    # a second report run, then a restarted process running it again: nothing twice
    await core.blast.report(launched)
    restarted = build_bot(
        fake, bot.settings, repo, clock, gateway=False, more=({X: x_network}, {})
    )
    await restarted.inbound.start()  # logged in, able to send DMs
    try:
        again = await restarted.core.repo.get_campaign(campaign.id)
        assert again is not None
        await restarted.core.blast.report(again)
    finally:
        await restarted.stop()
    assert len(_results(fake, "supporter")) == 1 and len(_results(fake, "francoise")) == 1
