""" "Did we trend?" end to end: the real Mastodon adapter reads the fake's public tag
timeline an hour after the launch, the scheduler runs the count once (a restart sends
nothing more), and the organiser reads the supporters' posts apart from everyone else's,
with the server that did not answer counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON, MastodonNetwork
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import CampaignStatus, LaunchDecision
from bot.domain.pledge import Pledge, PledgeStatus, change_status
from bot.domain.refs import UserRef
from bot.i18n import render
from bot.ports import Repository
from tests.fakes.pledge_site import ORGANISER, PledgeSite, start_site


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.core.scheduler.stop()
        await running.close()


async def pledge_on(
    site: PledgeSite, campaign_id: int, n: int, instance: str, remote_id: str
) -> tuple[Pledge, SocialAccount]:
    person = UserRef("test", f"70{n}", f"Fan {n}", "en")
    account = await site.repo.save_account(
        SocialAccount(
            owner=person,
            network=MASTODON,
            instance=instance,
            remote_id=remote_id,
            handle=f"fan{n}",
            followers=10,
            tokens=TokenSet(site.mastodon.issue_token(remote_id)),
            linked_at=site.clock.now(),
        )
    )
    assert account.id is not None
    pledge = await site.repo.add_pledge(
        Pledge(campaign_id, person, account.id, MASTODON, site.clock.now())
    )
    return pledge, account


async def test_the_organiser_learns_how_the_hashtag_did(site: PledgeSite) -> None:
    fake, clock = site.mastodon, site.clock
    campaign = await site.campaign(networks=(MASTODON,))  # message has #SaveTheRiver
    assert campaign.id is not None
    user = fake.add_user("fan1")
    pledge, account = await pledge_on(site, campaign.id, 1, fake.host, user.id)
    await pledge_on(site, campaign.id, 2, "127.0.0.1:9", "8")  # a server that is down
    clock.advance(campaign.launch_at - clock.now())
    (adapter,) = [a for a in site.adapters if isinstance(a, MastodonNetwork)]
    posted = await adapter.post(account, campaign.message, "launch-1")
    assert posted.url is not None
    await site.repo.update_pledge(
        replace(
            change_status(pledge, PledgeStatus.POSTED, at=clock.now()),
            remote_post_id=posted.remote_id,
            remote_post_url=posted.url,
        )
    )
    campaign = await site.repo.update_campaign(
        replace(
            campaign,
            status=CampaignStatus.LAUNCHED,
            launch_decision=LaunchDecision.MET,
            launch_supporters=2,
        )
    )
    launch = campaign.launch_at
    fake.add_remote_status("#savetheriver too", launch + timedelta(minutes=5), "https://o/1")
    fake.add_remote_status("Yes #SaveTheRiver", launch + timedelta(minutes=50), "https://o/2")
    fake.add_remote_status("Early #SaveTheRiver", launch - timedelta(minutes=1), "https://o/3")
    fake.add_remote_status("Late #SaveTheRiver", launch + timedelta(minutes=61), "https://o/4")
    clock.advance(timedelta(hours=1, minutes=1))

    await site.core.scheduler.start()
    await site.core.scheduler.wait_idle()

    told = [s for s in site.front.to(f"user:{ORGANISER.id}") if "trend.title" in s.keys]
    (message,) = told
    line = message.message.parts[1]
    assert (line.params["pledged"], line.params["others"]) == (1, 2)
    assert (line.params["servers"], line.params["network"]) == (1, "mastodon")
    assert "• mastodon: 3 posts (1 from your supporters, 2 from others)" in message.text
    assert "1 server did not answer." in message.text
    assert "#SaveTheRiver in the hour after the launch" in message.text
    assert "a-t-elle percé" in "\n".join(render(p, "fr") for p in message.message.parts)

    await site.core.scheduler.stop()
    await site.core.scheduler.start()  # a restart: the count is claimed, it runs once
    await site.core.scheduler.wait_idle()
    again = [s for s in site.front.to(f"user:{ORGANISER.id}") if "trend.title" in s.keys]
    assert len(again) == 1
