"""The launch scheduler: timers per event, reminders, cancellation, restarts and grace."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.campaign import CampaignStatus, transition
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import GROUP, GROUPE, ORGANISER, make_world


async def test_a_live_campaign_gets_one_timer_per_event_with_deterministic_ids(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    armed = world.scheduler.armed()
    assert sorted(armed) == sorted(
        f"campaign:{campaign.id}:{event}"
        for event in (
            "reminder_24h",
            "reminder_1h",
            "prepare",
            "launch",
            "tap_reminder",
            "report",
            *(f"countdown_{minutes}" for minutes in (60, 30, 15, 10, 5, 1)),
            "tag_count",
        )
    )
    job = world.scheduler._timers.get_job(f"campaign:{campaign.id}:launch")
    assert job is not None and job.args == (campaign.id, "launch")
    # the launch timer is 2 days of the core's clock ahead, whatever the real time
    assert armed[f"campaign:{campaign.id}:launch"] - armed[
        f"campaign:{campaign.id}:reminder_24h"
    ] == timedelta(hours=24)


async def test_cancelling_or_rejecting_drops_every_timer(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    first = await world.campaign()
    second = await world.campaign()
    await world.core.campaigns.cancel(first.ref, ORGANISER)
    failed = await repo.update_campaign(transition(second, CampaignStatus.FAILED, at=clock.now()))
    await world.scheduler.campaign_changed(failed)
    assert world.scheduler.armed() == {}
    await world.go(first.launch_at + timedelta(minutes=1))
    assert world.mastodon.attempts == []


async def test_reminders_go_to_promoted_chats_in_their_language_and_to_supporters_once(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(goal=10)
    pledge, _ = await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(hours=24))
    assert world.chat.keys_to(f"chat:{GROUP.id}") == ["blast.reminder_24h_chat", "card.page"]
    assert "24 hours" in world.texts_to(f"chat:{GROUP.id}")
    assert "24 heures" in world.texts_to(f"chat:{GROUPE.id}")
    page = f"http://127.0.0.1:8080/c/{campaign.ref}"  # the chats learn where the page is
    assert world.texts_to(f"chat:{GROUPE.id}").endswith(f"Page de la campagne : {page}")
    assert world.chat.keys_to(f"user:{pledge.supporter.id}") == ["blast.reminder_24h_supporter"]
    await world.go(campaign.launch_at - timedelta(hours=23))  # nothing new is due
    assert len(world.chat.to(f"chat:{GROUP.id}")) == 1
    await world.go(campaign.launch_at - timedelta(hours=1))
    assert world.chat.keys_to(f"user:{pledge.supporter.id}") == [
        "blast.reminder_24h_supporter",
        "blast.reminder_1h_supporter",
    ]
    assert "with 1 supporter so far." in world.texts_to(f"chat:{GROUP.id}")


async def test_a_reminder_whose_moment_passed_long_ago_is_skipped_not_sent_late(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(hours=2))  # jumped over the 24 h reminder
    assert world.chat.to(f"chat:{GROUP.id}") == []


async def test_the_preparation_queues_pledges_and_refreshes_expiring_tokens(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    fresh, _ = await world.supporter(campaign, expires_at=campaign.launch_at + timedelta(days=9))
    expiring, expiring_account = await world.supporter(
        campaign, expires_at=campaign.launch_at + timedelta(seconds=1)
    )
    gone, gone_account = await world.supporter(
        campaign, expires_at=campaign.launch_at - timedelta(hours=1)
    )
    world.mastodon.refuse_refresh.add(gone_account.id or 0)
    await world.go(campaign.launch_at - timedelta(minutes=5))
    assert (await world.pledge(fresh)).delivery is DeliveryState.QUEUED
    assert (await world.pledge(expiring)).delivery is DeliveryState.QUEUED
    assert world.mastodon.refreshed == [expiring_account.id]
    stored = await repo.get_account(expiring_account.id or 0)
    assert stored is not None
    assert stored.tokens.access_token == f"refreshed-test-token-not-real-{expiring_account.id}"
    failed = await world.pledge(gone)
    assert (failed.status, failed.failure_reason) == (PledgeStatus.FAILED, "revoked")
    revoked = await repo.get_account(gone_account.id or 0)
    assert revoked is not None and revoked.revoked
    assert world.mastodon.posts == []  # preparing posts nothing


async def test_restart_runs_a_launch_missed_within_grace_and_reports_it_late(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign)
    await world.scheduler.stop()  # the process is down over the launch moment
    clock.set(campaign.launch_at + timedelta(minutes=12))
    await world.restart()
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert len(world.mastodon.posts) == 1
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "12 min late" in report
    assert "Posted by Chorus: 1" in report
    assert "reminder" not in " ".join(world.chat.keys_to(f"chat:{GROUP.id}"))


async def test_restart_beyond_grace_fails_the_campaign_and_tells_everyone(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, launch_grace_minutes=30)
    campaign = await world.campaign()
    pledge, _ = await world.supporter(campaign)
    await world.scheduler.stop()
    clock.set(campaign.launch_at + timedelta(minutes=45))
    await world.restart()
    assert (await world.reload(campaign)).status is CampaignStatus.FAILED
    assert world.mastodon.posts == []
    assert world.chat.keys_to(f"user:{ORGANISER.id}") == ["blast.missed_organiser"]
    assert "45 minutes ago" in world.texts_to(f"user:{ORGANISER.id}")
    assert world.chat.keys_to(f"user:{pledge.supporter.id}") == ["blast.missed_supporter"]
    assert world.chat.keys_to(f"chat:{GROUPE.id}") == ["blast.missed_chat", "card.page"]
    assert "Chorus était indisponible" in world.texts_to(f"chat:{GROUPE.id}")
    assert world.scheduler.armed() == {}


async def test_each_event_runs_once_even_when_synced_twice_and_restarted(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(hours=1))
    await world.go(campaign.launch_at - timedelta(hours=1))
    await world.restart()
    await world.go(campaign.launch_at)
    await world.go(campaign.launch_at + timedelta(seconds=30))
    await world.restart()
    assert world.chat.keys_to(f"chat:{GROUP.id}").count("blast.reminder_1h_chat") == 1
    assert len(world.mastodon.posts) == 1
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 1


async def test_no_timer_is_left_once_a_campaign_is_launched_and_reported(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign)
    await world.go(campaign.launch_at)
    assert "blast.report_title" in world.chat.keys_to(f"user:{ORGANISER.id}")
    # no tap reminder or report left to fire: only the hashtag count, an hour on
    assert list(world.scheduler.armed()) == [f"campaign:{campaign.id}:tag_count"]
    await world.go(campaign.launch_at + timedelta(hours=1))
    assert world.scheduler.armed() == {}
