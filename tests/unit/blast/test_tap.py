"""One-tap delivery: the link at launch, the read-back, the reminder, the report."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.campaign import CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import DeliveryState, PledgeStatus
from bot.domain.refs import MessageRef, UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.blast.harness import GROUP, MESSAGE, ORGANISER, FlakyRepository, make_world
from tests.unit.blast.tap_site import tap_site

COMPOSE = f"https://fake.example/x/compose?text={quote(MESSAGE)}"


async def test_tap_supporters_get_a_one_tap_link_reminder_and_are_read_back(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)  # X defaults to tap
    campaign = await world.campaign(networks=(X, MASTODON))
    quick, quick_account = await world.supporter(campaign, network=X, followers=70)
    slow, slow_account = await world.supporter(campaign, network=X, followers=20, language="fr")
    never, _ = await world.supporter(campaign, network=X, followers=9)
    auto, _ = await world.supporter(campaign, followers=1)  # Mastodon: auto
    await world.go(campaign.launch_at)

    # at launch: auto posted, tap offered, campaign launched, no report yet
    assert (await world.reload(campaign)).status is CampaignStatus.LAUNCHED
    assert [p.account_id for p in world.mastodon.posts] == [auto.account_id]
    assert world.x.posts == []
    offer = world.chat.to(f"user:{quick.supporter.id}")[-1]
    assert offer.keys[0] == "blast.tap_offer"
    # the button is our short link to this pledge, which redirects to the compose screen
    (link,) = offer.actions
    assert link.startswith(f"{world.core.settings.public_url}/tap/")
    assert world.core.tap_links.read(link.rsplit("/", 1)[1]).pledge_id == quick.id
    (slow_link,) = world.chat.to(f"user:{slow.supporter.id}")[-1].actions
    assert slow_link != link
    async with tap_site(world.core) as site:
        assert await site.follow(link) == (303, COMPOSE)
        assert await site.follow(link) == (303, COMPOSE)  # tapping twice works too
    assert "publier depuis" in world.texts_to(f"user:{slow.supporter.id}")
    for pledge in (quick, slow, never):
        assert (await world.pledge(pledge)).delivery is DeliveryState.TAP_OFFERED
    assert "blast.report_title" not in world.chat.keys_to(f"user:{ORGANISER.id}")

    # one supporter posts with the link, another posts something unrelated
    world.x.user_posts(
        quick_account, f"Done! {MESSAGE}", at=campaign.launch_at + timedelta(minutes=2)
    )
    world.x.user_posts(
        slow_account, "lunch was great", at=campaign.launch_at + timedelta(minutes=3)
    )
    await world.go(campaign.launch_at + timedelta(minutes=30))
    confirmed = await world.pledge(quick)
    assert confirmed.status is PledgeStatus.POSTED
    assert confirmed.remote_post_url and "/x/status/" in confirmed.remote_post_url
    assert world.chat.to(f"user:{quick.supporter.id}")[-1].keys[0] == "blast.tap_offer"
    assert world.chat.to(f"user:{slow.supporter.id}")[-1].keys[0] == "blast.tap_reminder"
    reminder = world.chat.to(f"user:{never.supporter.id}")[-1]
    assert reminder.keys[0] == "blast.tap_reminder"
    (reminder_link,) = reminder.actions
    assert world.core.tap_links.read(reminder_link.rsplit("/", 1)[1]).pledge_id == never.id

    # the second one posts after the reminder; the third never does
    world.x.user_posts(
        slow_account, f"#SaveBees {MESSAGE}", at=campaign.launch_at + timedelta(minutes=50)
    )
    await world.go(campaign.launch_at + timedelta(minutes=120))
    assert (await world.pledge(slow)).status is PledgeStatus.POSTED
    unconfirmed = await world.pledge(never)
    assert (unconfirmed.status, unconfirmed.failure_reason) == (PledgeStatus.FAILED, "not_posted")
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted by Chorus: 1" in report
    assert "Posted with one tap: 2 · not posted: 1 · opened their link: 1" in report
    assert "Failed" not in report
    assert "Total reach: 91 followers" in report
    assert world.chat.keys_to(f"chat:{GROUP.id}").count("blast.report_title") == 1


async def test_a_tap_only_campaign_reports_after_the_read_back_window_even_after_restart(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock, mastodon_delivery="tap")
    campaign = await world.campaign()
    pledge, account = await world.supporter(campaign)
    assert pledge.delivery_mode is DeliveryMode.TAP
    await world.go(campaign.launch_at)
    world.mastodon.user_posts(account, MESSAGE, at=campaign.launch_at + timedelta(minutes=1))
    await world.scheduler.stop()
    clock.set(campaign.launch_at + timedelta(hours=3))  # down over the reminder and report
    await world.restart()
    assert "blast.tap_reminder" not in world.chat.keys_to(f"user:{pledge.supporter.id}")
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted with one tap: 1 · not posted: 0" in report
    assert world.scheduler.armed() == {}


async def test_a_withdrawn_tap_pledge_does_not_make_the_report_speak_of_taps(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(networks=(X, MASTODON))
    tapper, _ = await world.supporter(campaign, network=X)  # X: tap
    await world.supporter(campaign)
    await world.core.pledges.unpledge(campaign.ref, tapper.supporter)
    await world.go(campaign.launch_at)
    report = world.texts_to(f"user:{ORGANISER.id}")
    assert "Posted by Chorus: 1" in report
    assert "one tap" not in report


async def test_a_long_message_still_gets_a_short_link(repo: Repository, clock: FakeClock) -> None:
    """280 characters of accents and emoji URL-encode to far more than a chat button takes."""
    long_message = ("Sauvons les abeilles 🐝 été, forêt, à côté ! " * 7)[:250] + " #SaveBees"
    world = await make_world(repo, clock)
    campaign = await world.campaign(networks=(X,), message=long_message)
    pledge, _ = await world.supporter(campaign, network=X)
    await world.go(campaign.launch_at)

    (link,) = world.chat.to(f"user:{pledge.supporter.id}")[-1].actions
    compose = f"https://fake.example/x/compose?text={quote(long_message)}"
    assert len(compose) > 512 and len(link) < 120
    async with tap_site(world.core) as site:
        assert await site.follow(link) == (303, compose)


async def test_a_personalised_message_is_what_the_link_prefills(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign(networks=(X,))
    mine = f"My own words {MESSAGE}"
    pledge, _ = await world.supporter(campaign, network=X, message=mine)
    await world.go(campaign.launch_at)

    (link,) = world.chat.to(f"user:{pledge.supporter.id}")[-1].actions
    async with tap_site(world.core) as site:
        assert await site.follow(link) == (
            303,
            f"https://fake.example/x/compose?text={quote(mine)}",
        )


class MarkingRepository(FlakyRepository):
    """Logs each batch moved to SENDING, and lets a test wait for the nth."""

    def __init__(self, inner: Repository, log: list[str]) -> None:
        super().__init__(inner)
        self._log = log
        self.marked = asyncio.Condition()
        self.batches = 0

    async def set_delivery(self, ids: Any, state: DeliveryState, **kwargs: Any) -> Any:
        moved = await self._inner.set_delivery(ids, state, **kwargs)
        if state is DeliveryState.SENDING:
            self._log.append(f"marked {len(moved)}")
            async with self.marked:
                self.batches += 1
                self.marked.notify_all()
        return moved


@dataclass
class WaitingChat(RecordingFrontEnd):
    """Each tap offer waits (a little) until the second batch has been marked."""

    repo: MarkingRepository | None = None
    log: list[str] = field(default_factory=list)

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        repo = self.repo
        if repo is not None and message.parts[0].key == "blast.tap_offer":
            with contextlib.suppress(TimeoutError):  # the old code never marks it meanwhile
                async with repo.marked:
                    await asyncio.wait_for(repo.marked.wait_for(lambda: repo.batches >= 2), 0.5)
            self.log.append("offered")
        return await super().send_to_user(user, message)


async def test_the_next_batch_is_marked_while_this_one_is_offered(
    repo: Repository, clock: FakeClock
) -> None:
    """The front end's rate limiter must not run dry between two batches of offers."""
    log: list[str] = []
    marking = MarkingRepository(repo, log)
    chat = WaitingChat(log=log)
    world = await make_world(marking, clock, chat=chat, tuning={"mark_batch": 2})
    chat.repo = marking
    campaign = await world.campaign(networks=(X,))
    for _ in range(4):
        await world.supporter(campaign, network=X)
    await world.go(campaign.launch_at)

    assert log.count("offered") == 4
    assert log.index("marked 2", log.index("marked 2") + 1) < log.index("offered")
