"""Supporters whose post failed for good are told privately, once, after the blast."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.campaign import CampaignStatus
from bot.domain.events import EventKind
from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import MessageRef, UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import ORGANISER, FlakyRepository, make_world

NOTICES = ("blast.failed_revoked", "blast.failed_rejected")


async def test_revoked_and_rejected_supporters_are_told_what_happened_and_what_to_do(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    revoked, revoked_account = await world.supporter(campaign)
    rejected, rejected_account = await world.supporter(campaign, language="fr")
    expired, expired_account = await world.supporter(
        campaign, expires_at=campaign.launch_at - timedelta(hours=1)
    )
    posted, _ = await world.supporter(campaign)
    world.mastodon.script_kind(revoked_account.id or 0, OutcomeKind.REVOKED)
    world.mastodon.script(
        rejected_account.id or 0,
        PostOutcome(OutcomeKind.REJECTED, reason="Validation failed: Text is too long"),
    )
    world.mastodon.refuse_refresh.add(expired_account.id or 0)  # fails at the preparation
    seen: list[tuple[CampaignStatus, int]] = []
    send = world.chat.send_to_user

    async def watching(user: UserRef, message: OutgoingMessage) -> MessageRef:
        if message.parts[0].key in NOTICES:
            stored = await world.reload(campaign)
            seen.append((stored.status, len(world.mastodon.attempts)))
        return await send(user, message)

    world.chat.send_to_user = watching  # type: ignore[method-assign]
    await world.go(campaign.launch_at)

    to_revoked = world.chat.to(f"user:{revoked.supporter.id}")
    assert [s.keys[0] for s in to_revoked] == ["blast.failed_revoked"]
    assert "@fan" in to_revoked[0].text and "Support" in to_revoked[0].text
    to_rejected = world.chat.to(f"user:{rejected.supporter.id}")
    assert [s.keys[0] for s in to_rejected] == ["blast.failed_rejected"]
    assert "Mastodon a refusé" in to_rejected[0].text
    assert "Validation failed: Text is too long" in to_rejected[0].text
    assert world.chat.keys_to(f"user:{expired.supporter.id}") == ["blast.failed_revoked"]
    # no failure notice for a post that went out: only their own result (bot.blast.results)
    assert world.chat.keys_to(f"user:{posted.supporter.id}") == ["result.posted", "result.totals"]

    # told after the blast settled: every post done, the campaign LAUNCHED
    assert seen == [(CampaignStatus.LAUNCHED, 3)] * 3

    # once: neither another sync, the report nor a restart repeats it
    await world.go(campaign.launch_at + timedelta(hours=3))
    await world.restart()
    for pledge in (revoked, rejected, expired):
        keys = world.chat.keys_to(f"user:{pledge.supporter.id}")
        assert sum(keys.count(key) for key in NOTICES) == 1


async def test_notices_missed_after_the_blast_go_out_with_the_report(
    repo: Repository, clock: FakeClock
) -> None:
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign = await world.campaign()
    revoked, revoked_account = await world.supporter(campaign)
    world.mastodon.script_kind(revoked_account.id or 0, OutcomeKind.REVOKED)
    # the database fails just as the blast, already LAUNCHED, turns to the notices
    flaky.fail(
        "claim_event",
        lambda campaign_id, kind, at, subject=None: kind is EventKind.FAILURE_NOTICES,
    )
    await world.go(campaign.launch_at)
    assert flaky.failed == ["claim_event"]
    # the launch's retry finds it LAUNCHED and its report not done: it finishes the report
    assert world.chat.keys_to(f"user:{revoked.supporter.id}") == ["blast.failed_revoked"]
    assert "access revoked: 1" in world.texts_to(f"user:{ORGANISER.id}")
    await world.go(campaign.launch_at + timedelta(hours=2))  # the report's moment
    assert world.chat.keys_to(f"user:{revoked.supporter.id}") == ["blast.failed_revoked"]
    assert world.chat.keys_to(f"user:{ORGANISER.id}").count("blast.report_title") == 1


async def test_a_run_cut_off_between_two_notices_leaves_the_rest_to_the_next_run(
    repo: Repository, clock: FakeClock
) -> None:
    """Each notice is claimed on its own: the notices sent before the database failed are
    not sent again, and the one it failed on goes out with the next run, once."""
    flaky = FlakyRepository(repo)
    world = await make_world(flaky, clock)
    campaign = await world.campaign()
    first, first_account = await world.supporter(campaign)
    second, second_account = await world.supporter(campaign)
    world.mastodon.script_kind(first_account.id or 0, OutcomeKind.REVOKED)
    world.mastodon.script_kind(second_account.id or 0, OutcomeKind.REVOKED)
    flaky.fail(
        "claim_event",
        lambda campaign_id, kind, at, subject=None: (
            kind is EventKind.FAILURE_NOTICE and subject == second.id
        ),
    )
    await world.go(campaign.launch_at)
    assert flaky.failed == ["claim_event"]
    await world.go(campaign.launch_at + timedelta(hours=3))
    await world.restart()
    for pledge in (first, second):
        assert world.chat.keys_to(f"user:{pledge.supporter.id}").count("blast.failed_revoked") == 1
    assert await repo.event_claimed(campaign.id or 0, EventKind.FAILURE_NOTICES)
