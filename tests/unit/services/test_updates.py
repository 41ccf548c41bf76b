"""Organiser updates: who may send, the text rules, the rolling daily limit, mutes, and the
counts the organiser gets back (a real core over in-memory SQLite, a recording chat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from bot.domain.updates import MAX_LENGTH
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import ORGANISER, STRANGER, pledge, profile, supporter

Make = Callable[..., Awaitable[Campaign]]


async def refused(awaitable: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as exc:
        await awaitable
    return exc.value


def updates_to(front: RecordingFrontEnd, person: UserRef) -> list[str]:
    return [s.text for s in front.to(f"user:{person.id}") if "update.header" in s.keys]


async def test_update_reaches_each_supporter_once_with_a_mute_button(
    core: Chorus, live: Make, front: RecordingFrontEnd
) -> None:
    campaign = await live()
    alice, bob = supporter(1), supporter(2)
    await pledge(core, campaign, alice)
    await pledge(core, campaign, alice, profile(11))  # a second account: still one person
    await pledge(core, campaign, bob)

    answer = await core.updates.send(campaign.ref.lower(), ORGANISER, "  Halfway there!  ")

    (part,) = answer.parts
    assert part.key == "update.sent"
    assert (part.params["reached"], part.params["total"]) == (2, 2)
    assert (part.params["muted"], part.params["unreachable"]) == (0, 0)
    (sent,) = [s for s in front.to(f"user:{alice.id}") if "update.header" in s.keys]
    assert sent.text.endswith("Halfway there!")
    assert sent.actions == [f"mute:{campaign.ref}"]
    assert len(updates_to(front, bob)) == 1
    (stored,) = await core.repo.updates_of(campaign.id or 0)
    assert (stored.text, stored.reached, stored.total) == ("Halfway there!", 2, 2)


async def test_muted_supporters_get_nothing_and_unmuting_brings_updates_back(
    core: Chorus, live: Make, front: RecordingFrontEnd
) -> None:
    campaign = await live()
    alice, bob = supporter(1), supporter(2)
    await pledge(core, campaign, alice)
    await pledge(core, campaign, bob)

    muted = await core.updates.mute(campaign.ref, bob)
    assert muted.parts[0].key == "update.muted"
    assert [b.action for row in muted.buttons for b in row] == [f"unmute:{campaign.ref}"]
    answer = await core.updates.send(campaign.ref, ORGANISER, "News")
    assert answer.parts[0].params["muted"] == 1
    assert answer.parts[0].params["reached"] == 1
    assert updates_to(front, bob) == []

    await core.updates.unmute(campaign.ref, bob)
    await core.updates.send(campaign.ref, ORGANISER, "More news")
    assert len(updates_to(front, bob)) == 1


async def test_unpledge_and_forget_clear_the_mute(core: Chorus, live: Make) -> None:
    campaign = await live()
    alice, bob = supporter(1), supporter(2)
    await pledge(core, campaign, alice)
    await pledge(core, campaign, bob)
    await core.updates.mute(campaign.ref, alice)
    await core.updates.mute(campaign.ref, bob)
    assert await core.repo.muted_people(campaign.id or 0) == {alice.key, bob.key}

    await core.pledges.unpledge(campaign.ref, alice)
    await core.pledges.forget(bob)
    assert await core.repo.muted_people(campaign.id or 0) == set()


async def test_web_supporters_and_refusing_chats_count_as_unreachable(
    core: Chorus, live: Make, front: RecordingFrontEnd
) -> None:
    campaign = await live()
    blocked = supporter(1)
    await pledge(core, campaign, blocked)
    await pledge(core, campaign, UserRef("web", "w1", "web supporter"), profile(2))
    await pledge(core, campaign, supporter(3))
    front.refuse_users.add(blocked.id)

    answer = await core.updates.send(campaign.ref, ORGANISER, "Hello")
    params = answer.parts[0].params
    assert (params["reached"], params["total"], params["unreachable"]) == (1, 3, 2)
    assert not [s for s in front.sent if s.where == "user:w1"]  # never tried


async def test_only_the_organiser_of_a_live_campaign_may_send(
    core: Chorus, live: Make, submitted: Make, front: RecordingFrontEnd
) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    assert (await refused(core.updates.send(campaign.ref, STRANGER, "x"))).key == (
        "campaign.not_yours"
    )
    assert (await refused(core.updates.send(campaign.ref, supporter(1), "x"))).key == (
        "campaign.not_yours"
    )
    assert (await refused(core.updates.send("NOPE42", ORGANISER, "x"))).key == (
        "campaign.not_found"
    )
    waiting = await submitted(title="Another one")
    error = await refused(core.updates.send(waiting.ref, ORGANISER, "x"))
    assert error.key == "update.not_live"
    assert "pending" in render(error.text, "en") or "waiting" in render(error.text, "en")
    await core.campaigns.cancel(campaign.ref, ORGANISER)
    assert (await refused(core.updates.send(campaign.ref, ORGANISER, "x"))).key == (
        "update.not_live"
    )
    assert updates_to(front, supporter(1)) == []
    assert await core.repo.updates_of(campaign.id or 0) == []


async def test_text_must_be_non_empty_and_bounded(core: Chorus, live: Make) -> None:
    campaign = await live()
    assert (await refused(core.updates.send(campaign.ref, ORGANISER, " \n\t "))).key == (
        "update.empty"
    )
    too_long = await refused(core.updates.send(campaign.ref, ORGANISER, "x" * (MAX_LENGTH + 1)))
    assert too_long.key == "update.too_long"
    assert too_long.text.params["length"] == MAX_LENGTH + 1
    await core.updates.send(campaign.ref, ORGANISER, "x" * MAX_LENGTH)  # the limit itself


async def test_at_most_n_updates_in_any_rolling_24_hours(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    per_day = core.settings.updates_per_day
    assert per_day == 3
    first_at = clock.now()
    for number in range(per_day):
        await core.updates.send(campaign.ref, ORGANISER, f"Update {number}")
        clock.advance(timedelta(hours=1))
    error = await refused(core.updates.send(campaign.ref, ORGANISER, "One too many"))
    assert error.key == "update.rate_limited"
    assert error.text.params["next_at"] == first_at + timedelta(hours=24)
    assert "2030" in render(error.text, "en") or "UTC" in render(error.text, "en")
    assert len(await core.repo.updates_of(campaign.id or 0)) == per_day  # refused: not stored

    clock.advance(timedelta(hours=21))  # 24 h after the first: one slot is free again
    await core.updates.send(campaign.ref, ORGANISER, "Allowed again")
    error = await refused(core.updates.send(campaign.ref, ORGANISER, "Not yet"))
    assert error.text.params["next_at"] == first_at + timedelta(hours=25)


async def test_a_stranger_may_mute_only_for_themselves(core: Chorus, live: Make) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    await core.updates.mute(campaign.ref, STRANGER)
    assert await core.repo.muted_people(campaign.id or 0) == {STRANGER.key}
    assert (await refused(core.updates.mute("NOPE42", STRANGER))).key == "campaign.not_found"
