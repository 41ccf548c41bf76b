"""A supporter who pledged from the public page has no chat: the blast posts for them,
tells them nothing (there is nowhere to), warns about nothing, and counts them apart from
those a chat failed to reach."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.campaign import CampaignStatus
from bot.domain.outcomes import OutcomeKind
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import WEB_PLATFORM, UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import make_world

WEB_ANN = UserRef(WEB_PLATFORM, "w3b-id-0123456789", "@ann@bees.social", "fr")


async def test_a_launch_with_a_web_supporter_warns_about_nothing_and_posts_for_them(
    repo: Repository, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=2)
    await world.supporter(campaign)
    web_pledge, web_account = await world.supporter(campaign, person=WEB_ANN)

    with caplog.at_level(logging.DEBUG, logger="bot"):
        await world.go(campaign.launch_at - timedelta(hours=1))  # the reminder too
        await world.go(campaign.launch_at)

    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert [p.text for p in world.mastodon.posts_of(web_account.id or 0)] != []
    assert (await world.pledge(web_pledge)).status is PledgeStatus.POSTED
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [], [r.getMessage() for r in warnings]
    assert world.chat.to(f"user:{WEB_ANN.id}") == []  # nothing was sent anywhere
    report = world.texts_to("user:" + campaign.organiser.id)
    assert "Posted by Chorus: 2" in report


async def test_failed_web_pledges_count_as_without_a_chat_not_as_unreached(
    repo: Repository, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=1)
    chat_pledge, chat_account = await world.supporter(campaign)
    _, web_account = await world.supporter(campaign, person=WEB_ANN)
    for account in (chat_account, web_account):
        world.mastodon.script_kind(account.id or 0, OutcomeKind.REJECTED)

    with caplog.at_level(logging.INFO, logger="bot.blast.notices"):
        await world.go(campaign.launch_at)

    assert world.chat.keys_to(f"user:{chat_pledge.supporter.id}")[-1] == "blast.failed_rejected"
    told = [r.getMessage() for r in caplog.records if "failed supporters told" in r.getMessage()]
    assert told == [f"campaign {campaign.ref}: 1 of 1 failed supporters told (1 without a chat)"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
