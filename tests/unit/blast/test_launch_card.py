"""The card around the launch: the countdown in the last hour, the live tally, Post now.

The countdown is a set of scheduler events (claimed once each, so a restart or a second
sync edits nothing twice); the tally rides on the coalesced card updates, throttled so
a long blast edits each card only every few seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.blast.report import NOT_POSTED, figures_of
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.domain.errors import NotFound
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.i18n import render
from bot.ports import Repository
from bot.services.cards import campaign_card, countdown_minutes
from bot.services.post_now import Outcome
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import GROUP, GROUPE, make_world

EDIT_EN = f"edit:{GROUP.id}/1"
EDIT_FR = f"edit:{GROUPE.id}/1"
LAUNCH = datetime(2030, 1, 17, 18, 0, tzinfo=UTC)


def card_text(campaign: Campaign, stats: CampaignStats, **kw: object) -> str:
    card = campaign_card(campaign, stats, **kw)  # type: ignore[arg-type]
    return "\n".join(render(part, "en") for part in card.parts)


def a_campaign(status: CampaignStatus = CampaignStatus.LIVE, **kw: object) -> Campaign:
    return Campaign(
        ref="BEES01",
        title="Save the bees",
        message="Save the bees #bees",
        goal=0,
        launch_at=LAUNCH,
        networks=("mastodon",),
        organiser=UserRef("test", "1", "Olive"),
        created_at=LAUNCH - timedelta(days=3),
        status=status,
        **kw,  # type: ignore[arg-type]
    )


def test_the_card_counts_down_only_in_the_last_hour_of_a_live_campaign() -> None:
    live = a_campaign()
    stats = CampaignStats(supporters=2, accounts=2)
    assert countdown_minutes(live, LAUNCH - timedelta(minutes=61)) is None
    assert countdown_minutes(live, LAUNCH - timedelta(minutes=60)) == 60
    assert countdown_minutes(live, LAUNCH - timedelta(minutes=4, seconds=1)) == 5
    assert countdown_minutes(live, LAUNCH - timedelta(seconds=5)) == 1
    assert countdown_minutes(live, LAUNCH) is None
    assert "Launch in 1 minute!" in card_text(live, stats, now=LAUNCH - timedelta(seconds=5))
    assert "Launch in" not in card_text(live, stats, now=LAUNCH - timedelta(hours=2))
    assert "Launch in" not in card_text(live, stats)  # no clock, no countdown
    launched = a_campaign(CampaignStatus.LAUNCHED, tap_offered=True)
    assert countdown_minutes(launched, LAUNCH - timedelta(minutes=5)) is None


def test_a_launched_card_shows_the_tally_and_post_now_only_when_asked() -> None:
    launching = a_campaign(CampaignStatus.LAUNCHING, tap_offered=True)
    stats = CampaignStats(supporters=3, accounts=4, posted=1)
    assert "📤 Posted: 1 of 4" in card_text(launching, stats)
    card = campaign_card(launching, stats, post_now=True)
    assert [b.action for row in card.buttons for b in row] == ["postnow:BEES01"]
    assert campaign_card(launching, stats).buttons == ()
    live = campaign_card(a_campaign(), stats, post_now=True)  # before the launch: Support
    assert [b.action for row in live.buttons for b in row] == ["support:BEES01"]


def test_report_counts_the_unreachable_apart_from_those_reached_who_did_not_post() -> None:
    campaign = a_campaign(CampaignStatus.LAUNCHED, tap_offered=True)

    def tap(pledge_id: int, status: PledgeStatus) -> Pledge:
        return Pledge(
            campaign_id=1,
            supporter=UserRef("test", str(pledge_id)),
            account_id=pledge_id,
            network="x",
            created_at=LAUNCH,
            status=status,
            delivery=DeliveryState.DONE,
            delivery_mode=DeliveryMode.TAP,
            failure_reason=NOT_POSTED if status is PledgeStatus.FAILED else None,
            id=pledge_id,
        )

    pledges = [
        tap(1, PledgeStatus.FAILED),  # unreachable, never posted
        tap(2, PledgeStatus.POSTED),  # unreachable, got the link from the card and posted
        tap(3, PledgeStatus.FAILED),  # reached, did not post
        tap(4, PledgeStatus.POSTED),
    ]
    figures = figures_of(campaign, pledges, CampaignStats(), {}, unreachable={1, 2})
    assert (figures.confirmed, figures.not_posted, figures.unreachable) == (2, 1, 1)


async def test_countdown_edits_every_card_at_each_mark_once_in_its_language(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    await world.supporter(campaign)
    launch = campaign.launch_at
    await world.go(launch - timedelta(minutes=61))
    assert world.chat.to(EDIT_EN) == []
    seen = []
    for minutes in (60, 30, 15, 10, 5, 1):
        await world.go(launch - timedelta(minutes=minutes))
        (edit,) = world.chat.to(EDIT_EN)[len(seen) :]
        assert f"Launch in {minutes} minute" in edit.text
        assert edit.actions == [f"support:{campaign.ref}"]
        seen.append(edit)
        await world.go(launch - timedelta(minutes=minutes, seconds=-20))  # nothing new due
        assert len(world.chat.to(EDIT_EN)) == len(seen)
    french = [e.text for e in world.chat.to(EDIT_FR)]
    assert len(french) == 6 and "Lancement dans 60 minutes" in french[0]
    await world.restart()  # every mark is claimed: a restart edits nothing again
    assert len(world.chat.to(EDIT_EN)) == 6


async def test_after_a_restart_only_the_latest_due_mark_edits_the_cards(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    clock.set(campaign.launch_at - timedelta(minutes=7))  # down through the 60-10 marks
    await world.restart()
    (edit,) = world.chat.to(EDIT_EN)
    assert "Launch in 7 minutes" in edit.text
    await world.go(campaign.launch_at - timedelta(minutes=5))
    assert "Launch in 5 minutes" in world.chat.to(EDIT_EN)[-1].text
    assert len(world.chat.to(EDIT_EN)) == 2


async def test_the_live_tally_is_coalesced_during_the_blast(
    repo: Repository, clock: FakeClock
) -> None:
    # every result is written on its own, so every post asks for a tally
    world = await make_world(repo, clock, tuning={"flush_every": 1})
    campaign = await world.campaign()
    for _ in range(12):
        await world.supporter(campaign)
    await world.go(campaign.launch_at - timedelta(seconds=30))
    before = len(world.chat.to(EDIT_EN))
    await world.go(campaign.launch_at)
    await world.core.cards.flush()
    edits = world.chat.to(EDIT_EN)[before:]
    # the clock stands still during this blast: one tally inside TALLY_EVERY, plus the
    # launch's own refresh and the report's, however many results were written
    assert len(world.mastodon.attempts) == 12
    assert 2 <= len(edits) <= 4
    assert "📤 Posted: 12 of 12" in edits[-1].text


async def test_post_now_answers_every_case_clearly(repo: Repository, clock: FakeClock) -> None:
    world = await make_world(repo, clock)
    post_now = world.core.chat.post_now
    campaign = await world.campaign(networks=(MASTODON, X))
    auto, _ = await world.supporter(campaign)  # Mastodon: Chorus posts for them
    tapper, _ = await world.supporter(campaign, network=X)
    stranger = UserRef("test", "999", "Sam")
    with pytest.raises(NotFound):
        await post_now.press("NOPE99", tapper.supporter)
    with pytest.raises(NotFound):
        await post_now.press("x" * 5000, tapper.supporter)
    early = await post_now.press(campaign.ref, tapper.supporter)
    assert early.outcome is Outcome.CLOSED  # no links before the launch

    await world.go(campaign.launch_at)
    assert (await post_now.press(campaign.ref.lower(), stranger)).outcome is (
        Outcome.NOT_SUPPORTER
    )
    assert (await post_now.press(campaign.ref, auto.supporter)).outcome is Outcome.NOTHING_LEFT
    mine = await post_now.press(campaign.ref, tapper.supporter)
    assert mine.outcome is Outcome.LINKS and mine.message is not None
    link = world.core.tap_links.url(campaign, tapper)
    assert [b.url for row in mine.message.buttons for b in row] == [link]
    sent = await post_now.press_and_send(campaign.ref, tapper.supporter)
    assert sent.outcome is Outcome.SENT
    assert world.chat.to(f"user:{tapper.supporter.id}")[-1].actions == [link]
    await post_now.handed(mine, tapper.supporter)  # counted once however often
    assert await repo.count_events(campaign.id or 0, EventKind.POST_NOW) == 1

    await world.go(campaign.launch_at + timedelta(minutes=120))  # the report closes it
    assert (await post_now.press(campaign.ref, tapper.supporter)).outcome is Outcome.CLOSED
