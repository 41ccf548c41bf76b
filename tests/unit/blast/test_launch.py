"""The launch itself: goal rules, auto delivery, skipped pledges, the report."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.outcomes import OutcomeKind
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import GROUP, GROUPE, MESSAGE, ORGANISER, make_world


async def test_goal_missed_fails_the_campaign_posts_nothing_and_tells_everyone(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=3)
    first, _ = await world.supporter(campaign)
    second, _ = await world.supporter(campaign, language="fr")
    await world.go(campaign.launch_at)
    assert (await world.reload(campaign)).status is CampaignStatus.FAILED
    assert world.mastodon.attempts == []
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["blast.goal_missed_organiser"]
    assert "2 of 3 supporters" in world.texts_to(f"user:{ORGANISER.id}")
    assert world.chat.keys_to(f"user:{first.supporter.id}")[-1] == "blast.goal_missed_supporter"
    assert "rien n'a été publié" in world.texts_to(f"user:{second.supporter.id}")
    assert world.chat.keys_to(f"chat:{GROUP.id}")[-2:] == ["blast.goal_missed_chat", "card.page"]
    assert world.chat.keys_to(f"chat:{GROUPE.id}")[-2:] == ["blast.goal_missed_chat", "card.page"]
    # the promotion cards say so too
    assert "card.status_failed" in world.chat.keys_to(f"edit:{GROUP.id}/1")
    assert world.scheduler.armed() == {}


async def test_goal_met_exactly_posts_every_pledge_with_its_own_wording(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=2)
    plain, plain_account = await world.supporter(campaign, followers=120)
    own = f"I am in! {MESSAGE}"
    personal, personal_account = await world.supporter(campaign, followers=30, message=own)
    await world.go(campaign.launch_at)
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert [p.text for p in world.mastodon.posts_of(plain_account.id or 0)] == [MESSAGE]
    assert [p.text for p in world.mastodon.posts_of(personal_account.id or 0)] == [own]
    assert {p.idempotency_key for p in world.mastodon.posts} == {
        f"chorus-{plain.id}",
        f"chorus-{personal.id}",
    }
    stored = await world.pledge(plain)
    assert (stored.status, stored.delivery) == (PledgeStatus.POSTED, DeliveryState.DONE)
    assert stored.remote_post_url and stored.remote_post_url.startswith("https://fake.example")
    assert stored.posted_at == campaign.launch_at
    stats = await repo.campaign_stats(campaign.id or 0)
    assert (stats.posted, stats.posted_reach) == (2, 150)


async def test_no_minimum_launches_even_with_no_supporter_at_all(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=0)
    await world.go(campaign.launch_at)
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted by Chorus: 0" in report and "Total reach: 0 followers" in report


async def test_the_report_gives_figures_reach_links_in_each_chats_language(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=1)
    for followers in (100, 200, 300, 400):
        await world.supporter(campaign, followers=followers)
    _, refused_account = await world.supporter(campaign, followers=5000)
    world.mastodon.script_kind(refused_account.id or 0, OutcomeKind.REJECTED)
    await world.go(campaign.launch_at)
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted by Chorus: 4" in report
    assert "Failed: 1" in report and "refused by the network: 1" in report
    assert "Total reach: 1,000 followers" in report
    assert report.count("https://fake.example/mastodon/status/") == 3
    assert "one tap" not in report  # no tap pledge in this campaign
    assert "late" not in report
    french = world.texts_to(f"chat:{GROUPE.id}")
    assert "Bilan du lancement" in french and "Portée totale : 1\u202f000 abonnés" in french
    assert "Launch report" in world.texts_to(f"chat:{GROUP.id}")
    page = f"http://127.0.0.1:8080/c/{campaign.ref}"  # the harness's public site
    assert report.endswith(f"🌐 Campaign page: {page}")
    assert world.texts_to(f"chat:{GROUP.id}").endswith(f"🌐 Campaign page: {page}")
    assert french.endswith(f"🌐 Page de la campagne : {page}")
    assert "card.status_launched" in world.chat.keys_to(f"edit:{GROUP.id}/1")


async def test_withdrawn_pledges_and_erased_accounts_are_skipped(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    kept, kept_account = await world.supporter(campaign)
    withdrawn, _ = await world.supporter(campaign)
    erased, _ = await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(minutes=5))  # prepared: all three queued
    await world.core.pledges.unpledge(campaign.ref, withdrawn.supporter)
    await world.core.pledges.forget(erased.supporter)
    await world.go(campaign.launch_at)
    assert [p.account_id for p in world.mastodon.posts] == [kept_account.id]
    assert (await world.pledge(kept)).status is PledgeStatus.POSTED
    assert (await world.pledge(withdrawn)).status is PledgeStatus.WITHDRAWN
    assert await repo.get_pledge(erased.id or 0) is None
    assert "Posted by Chorus: 1" in world.texts_to(f"user:{ORGANISER.id}")


async def test_pledges_arriving_after_the_preparation_are_included(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    early, _ = await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(minutes=5))
    assert (await world.pledge(early)).delivery is DeliveryState.QUEUED
    clock.advance(timedelta(minutes=3))
    late, late_account = await world.supporter(
        campaign, expires_at=campaign.launch_at - timedelta(minutes=1)
    )
    assert late.delivery is DeliveryState.WAITING
    await world.go(campaign.launch_at)
    assert len(world.mastodon.posts) == 2
    assert (await world.pledge(late)).status is PledgeStatus.POSTED
    assert world.mastodon.refreshed == [late_account.id]  # prepared at the launch itself


async def test_a_pledge_arriving_while_the_preparation_runs_is_included(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign, expires_at=campaign.launch_at)  # needs a refresh
    arrived = []

    async def meanwhile() -> None:
        if not arrived:  # a supporter pledges while the tokens are being refreshed
            arrived.append(await world.supporter(campaign))

    world.mastodon.during_refresh = meanwhile
    await world.go(campaign.launch_at - timedelta(minutes=5))
    assert len(arrived) == 1
    await world.go(campaign.launch_at)
    assert len(world.mastodon.posts) == 2
    assert (await world.pledge(arrived[0][0])).status is PledgeStatus.POSTED


async def test_a_chat_that_refuses_messages_never_stops_the_blast(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    blocked, _ = await world.supporter(campaign, network=X)  # tap: needs a message
    world.chat.refuse_users.add(blocked.supporter.id)
    world.chat.refuse_users.add(ORGANISER.id)
    await world.supporter(campaign)
    await world.go(campaign.launch_at)
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert len(world.mastodon.posts) == 1
    assert (await world.pledge(blocked)).delivery is DeliveryState.TAP_OFFERED


async def test_concurrency_is_bounded_per_network(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock, latency=0.01, blast_concurrency=3)
    campaign = await world.campaign()
    for _ in range(20):
        await world.supporter(campaign)
    await world.go(campaign.launch_at)
    assert len(world.mastodon.posts) == 20
    assert world.mastodon.peak_in_flight == 3


async def test_the_report_counts_the_posts_by_network(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=1, networks=(MASTODON, X))
    for network in (MASTODON, MASTODON, X):
        await world.supporter(campaign, network=network, mode=DeliveryMode.AUTO)
    await world.go(campaign.launch_at)
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "• mastodon: 2 posts" in report and "• x: 1 post" in report
    assert "• x : 1 publication" in world.texts_to(f"chat:{GROUPE.id}")
