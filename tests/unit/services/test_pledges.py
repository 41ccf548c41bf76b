"""Supporter use cases: support, pledge, milestones, unpledge, forget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError
from bot.domain.events import EventKind
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import ChatRef
from bot.services.pledges import Forgotten
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import (
    GROUP,
    MESSAGE,
    MODERATOR,
    ORGANISER,
    RecordingNetwork,
    draft,
    pledge,
    profile,
    supporter,
)

Make = Callable[..., Awaitable[Campaign]]


async def promoted(core: Chorus, live: Make, **kwargs: object) -> Campaign:
    campaign = await live(**kwargs)
    await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    return campaign


async def supporters(core: Chorus, campaign: Campaign) -> int:
    return (await core.repo.campaign_stats(campaign.id or 0)).supporters


async def refused(awaitable: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as exc:
        await awaitable
    return exc.value


async def test_support_gives_the_campaign_and_a_personal_link(core: Chorus, live: Make) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    shown, message = await core.pledges.support(campaign.ref.lower(), supporter(2))
    assert shown.id == campaign.id
    assert [p.key for p in message.parts] == ["supporter.intro", "supporter.link_note"]
    assert message.parts[0].params["supporters"] == 1
    [[button]] = message.buttons
    prefix = f"{core.settings.public_url}/pledge/"
    assert button.url is not None and button.url.startswith(prefix)
    ticket = core.links.read(button.url.removeprefix(prefix))
    assert (ticket.campaign_ref, ticket.supporter) == (campaign.ref, supporter(2))


async def test_support_refused_unless_live(
    core: Chorus, submitted: Make, live: Make, clock: FakeClock
) -> None:
    pending = await submitted()
    error = await refused(core.pledges.support(pending.ref, supporter(1)))
    assert error.key == "pledge.not_open"
    assert error.text.params["status"].key == "status.pending_review"
    campaign = await live()
    clock.set(campaign.launch_at)
    assert (await refused(core.pledges.support(campaign.ref, supporter(1)))).key == (
        "pledge.already_launched"
    )
    assert (await refused(core.pledges.support("ZZZZZZ", supporter(1)))).key == (
        "campaign.not_found"
    )


async def test_record_stores_the_pledge_and_confirms_privately(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    fan = supporter(1, "fr")
    stored = await pledge(core, campaign, fan, profile(1, followers=250))
    assert stored.id is not None
    assert (stored.status, stored.network, stored.supporter) == (
        PledgeStatus.PLEDGED,
        MASTODON,
        fan,
    )
    assert stored.delivery_mode is DeliveryMode.AUTO
    assert stored.message is None
    [told] = front.to(f"user:{fan.id}")
    assert told.keys == ["supporter.pledged", "supporter.delivery_auto", "supporter.recruit_link"]
    assert "@handle1@mastodon.example" in told.text
    assert told.language == "fr"
    stats = await core.repo.campaign_stats(campaign.id or 0)
    assert (stats.supporters, stats.reach) == (1, 250)


async def test_x_pledges_default_to_tap(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    stored = await pledge(core, campaign, supporter(1), profile(1, X))
    assert stored.delivery_mode is DeliveryMode.TAP
    assert front.keys_to("user:1")[-2] == "supporter.delivery_tap"


async def test_milestones_are_announced_once_each_in_promoted_chats(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await promoted(core, live, goal=4)
    for number in (1, 2, 3):
        await pledge(core, campaign, supporter(number))
    await core.pledges.unpledge(campaign.ref, supporter(3))  # back to 50%
    await pledge(core, campaign, supporter(3))  # 75% again: not announced twice
    await pledge(core, campaign, supporter(4))
    await pledge(core, campaign, supporter(5))  # beyond the goal
    announced = [key for key in front.keys_to("chat:group-1") if key.startswith("announce.")]
    assert announced == [
        "announce.milestone_25",
        "announce.milestone_50",
        "announce.milestone_75",
        "announce.milestone_100",
    ]
    last = front.to("chat:group-1")[-1]
    assert last.message.parts[0].params == {
        "title": campaign.title,
        "supporters": 4,
        "goal": 4,
        "ref": campaign.ref,
    }
    for percent in (25, 50, 75, 100):
        assert await core.repo.event_claimed(campaign.id or 0, EventKind.MILESTONE, percent)


async def test_a_pledge_crossing_several_milestones_announces_only_the_highest(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await promoted(core, live, goal=3)
    for number in (1, 2, 3):  # 33%, 66%, then 100% (passing 75% on the way)
        await pledge(core, campaign, supporter(number))
    announced = [key for key in front.keys_to("chat:group-1") if key.startswith("announce.")]
    assert announced == [
        "announce.milestone_25",
        "announce.milestone_50",
        "announce.milestone_100",
    ]
    await core.pledges.unpledge(campaign.ref, supporter(3))  # back to 66%
    await pledge(core, campaign, supporter(3))  # 75% is never announced after the goal
    assert [k for k in front.keys_to("chat:group-1") if k.startswith("announce.")] == announced


async def test_one_person_with_many_accounts_counts_once_and_sets_off_no_milestone(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await promoted(core, live, goal=5)
    for number in range(1, 6):  # five accounts, one person: 1 of 5 is 20%
        await pledge(core, campaign, supporter(1), profile(number))
    stats = await core.repo.campaign_stats(campaign.id or 0)
    assert (stats.supporters, stats.accounts) == (1, 5)
    assert [k for k in front.keys_to("chat:group-1") if k.startswith("announce.")] == []
    _, message = await core.pledges.support(campaign.ref, supporter(2))
    assert message.parts[0].params["supporters"] == 1


async def test_no_minimum_campaign_announces_no_milestones(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await promoted(core, live, goal=0)
    await pledge(core, campaign, supporter(1))
    assert [k for k in front.keys_to("chat:group-1") if k.startswith("announce.")] == []


async def test_a_burst_of_pledges_edits_each_card_once(
    make_core: Callable[..., Chorus], front: RecordingFrontEnd, clock: FakeClock
) -> None:
    core = make_core(card_delay_seconds=3600)  # nothing refreshes on its own during the test
    campaign = await core.campaigns.submit(draft(clock, goal=100), ORGANISER, GROUP)
    campaign = await core.moderation.approve(campaign.id or 0, MODERATOR, may_moderate=True)
    await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    other_group = ChatRef("test", "group-2")
    await core.campaigns.promote(campaign.ref, other_group, ORGANISER, requester_is_admin=True)
    front.sent.clear()
    for number in range(1, 8):
        await pledge(core, campaign, supporter(number))
    assert [s for s in front.sent if s.where.startswith("edit:")] == []
    await core.cards.flush()
    edits = [s for s in front.sent if s.where.startswith("edit:")]
    assert sorted(e.where.split("/")[0] for e in edits) == ["edit:group-1", "edit:group-2"]
    assert all(e.message.parts[3].params["supporters"] == 7 for e in edits)
    await core.cards.flush()
    assert len([s for s in front.sent if s.where.startswith("edit:")]) == 2


async def test_cards_refresh_with_no_delay_after_flush(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await promoted(core, live, goal=10)
    await pledge(core, campaign, supporter(1))
    await pledge(core, campaign, supporter(2))
    await core.cards.flush()
    edits = [s for s in front.sent if s.where.startswith("edit:group-1/")]
    assert 1 <= len(edits) <= 2
    assert edits[-1].message.parts[3].params["supporters"] == 2


async def test_one_pledge_per_account_per_campaign(
    core: Chorus, front: RecordingFrontEnd, live: Make, mastodon: RecordingNetwork
) -> None:
    campaign = await live()
    fan = supporter(1)
    await pledge(core, campaign, fan, profile(1))
    token = core.links.issue(campaign.ref, fan)
    error = await refused(core.pledges.record(core.links.read(token), profile(1)))
    assert error.key == "pledge.already"
    assert error.text.params == {"title": campaign.title}
    assert await supporters(core, campaign) == 1
    assert mastodon.revoked == []  # the very tokens stored for the account: never revoked
    # the refused attempt did not use the link up: another account can still pledge with it
    other = await core.pledges.record(core.links.read(token), profile(11, X))
    assert (other.network, other.status) == (X, PledgeStatus.PLEDGED)
    stats = await core.repo.campaign_stats(campaign.id or 0)
    assert (stats.supporters, stats.accounts) == (1, 2)  # one person, two accounts


async def test_a_link_pledges_once(core: Chorus, live: Make) -> None:
    campaign = await live()
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(1)))
    await core.pledges.record(ticket, profile(1))
    error = await refused(core.pledges.record(ticket, profile(2)))
    assert error.key == "link.used"
    assert await supporters(core, campaign) == 1


def fresh(number: int, network: Network = MASTODON) -> LinkedProfile:
    """The account of ``profile(number)`` authorised again: new tokens from the network."""
    return replace(profile(number, network), tokens=TokenSet(f"test-token-not-real-{number}-new"))


async def test_tokens_of_a_refused_pledge_that_cannot_be_revoked_are_queued_and_retried(
    core: Chorus, live: Make, mastodon: RecordingNetwork, clock: FakeClock
) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1), profile(1))
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(2)))
    mastodon.fail_revoke = True

    assert (await refused(core.pledges.record(ticket, fresh(1)))).key == "account.linked_by_other"

    [queued] = await core.repo.due_revocations(clock.now() + timedelta(days=1), 10)
    assert (queued.account_id, queued.tokens.access_token) == (None, "test-token-not-real-1-new")
    mastodon.fail_revoke = False
    clock.advance(timedelta(minutes=15))
    assert await core.revocations.retry_pending() == 1
    assert mastodon.revoked == ["test-token-not-real-1-new"] * 2
    assert await core.repo.due_revocations(clock.now() + timedelta(days=1), 10) == []


async def test_a_link_never_takes_an_account_linked_by_someone_else(
    core: Chorus, live: Make, mastodon: RecordingNetwork
) -> None:
    campaign = await live()
    victim, attacker = supporter(1), supporter(2)
    await pledge(core, campaign, victim, profile(1))
    # the attacker sends their own pledge link; the victim opens it and authorises
    ticket = core.links.read(core.links.issue(campaign.ref, attacker))

    error = await refused(core.pledges.record(ticket, fresh(1)))

    assert error.key == "account.linked_by_other"
    assert error.text.params == {"account": "@handle1@mastodon.example"}
    assert mastodon.revoked == ["test-token-not-real-1-new"]  # fetched for nothing: revoked
    [kept] = await core.repo.accounts_of(victim)
    assert kept.tokens == profile(1).tokens
    assert await core.repo.accounts_of(attacker) == []
    assert await core.repo.pledges_of_supporter(attacker) == []
    assert not await core.repo.nonce_used(ticket.nonce)
    assert await core.pledges.forget(victim) == Forgotten(accounts=1, pledges=1)
    assert await core.repo.find_account(MASTODON, "mastodon.example", "remote-1") is None


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("campaign closed", "pledge.not_open"),
        ("link used", "link.used"),
        ("network not in campaign", "pledge.network_not_in_campaign"),
        ("message invalid", "message.missing_hashtags"),
        ("already pledged", "pledge.already"),
        ("revocation fails", "pledge.not_open"),
    ],
)
async def test_a_refused_pledge_revokes_the_fetched_tokens_and_stores_none(
    core: Chorus, live: Make, mastodon: RecordingNetwork, case: str, key: str
) -> None:
    fan = supporter(1)
    await pledge(core, await live(title="Earlier campaign"), fan, profile(1))  # linked before
    absent = case == "network not in campaign"
    campaign = await live(networks=(X,) if absent else (MASTODON, X))
    ticket = core.links.read(core.links.issue(campaign.ref, fan))
    message = None
    if case in ("campaign closed", "revocation fails"):
        await core.campaigns.cancel(campaign.ref, ORGANISER)
    if case == "link used":
        await core.pledges.record(ticket, profile(11, X))
    if case == "message invalid":
        message = "No hashtag https://bees.example/act"
    if case == "already pledged":
        await pledge(core, campaign, fan, profile(1))
    mastodon.fail_revoke = case == "revocation fails"
    before = {p.id: p for p in await core.repo.pledges_of_supporter(fan)}

    error = await refused(core.pledges.record(ticket, fresh(1), message))

    assert error.key == key
    assert mastodon.revoked == ["test-token-not-real-1-new"]
    [kept] = [a for a in await core.repo.accounts_of(fan) if a.network == MASTODON]
    assert kept.tokens == profile(1).tokens  # the stored tokens were not replaced
    assert {p.id: p for p in await core.repo.pledges_of_supporter(fan)} == before


async def test_a_refused_first_link_stores_no_account(
    core: Chorus, live: Make, x_network: RecordingNetwork
) -> None:
    campaign = await live(networks=(MASTODON,))
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(1)))
    error = await refused(core.pledges.record(ticket, profile(1, X)))
    assert error.key == "pledge.network_not_in_campaign"
    assert x_network.revoked == ["test-token-not-real-1"]
    assert await core.repo.accounts_of(supporter(1)) == []
    assert await core.repo.find_account(X, "x.com", "remote-1") is None


async def test_relinking_your_own_account_keeps_the_new_tokens(
    core: Chorus, live: Make, mastodon: RecordingNetwork
) -> None:
    fan = supporter(1)
    await pledge(core, await live(title="Earlier campaign"), fan, profile(1))
    await pledge(core, await live(), fan, fresh(1))
    [kept] = await core.repo.accounts_of(fan)
    assert kept.tokens == fresh(1).tokens
    assert mastodon.revoked == []


async def test_re_pledge_after_withdraw(core: Chorus, live: Make) -> None:
    campaign = await live()
    fan = supporter(1)
    first = await pledge(core, campaign, fan)
    assert await core.pledges.unpledge(campaign.ref, fan) == 1
    assert await supporters(core, campaign) == 0
    again = await pledge(core, campaign, fan, message=MESSAGE + " 🐝")
    assert (again.id, again.status, again.message) == (
        first.id,
        PledgeStatus.PLEDGED,
        MESSAGE + " 🐝",
    )
    assert await supporters(core, campaign) == 1


async def test_pledge_on_a_cancelled_campaign_is_refused(core: Chorus, live: Make) -> None:
    campaign = await live()
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(1)))
    await core.campaigns.cancel(campaign.ref, ORGANISER)
    error = await refused(core.pledges.record(ticket, profile(1)))
    assert error.key == "pledge.not_open"
    assert error.text.params["status"].key == "status.cancelled"
    assert await core.repo.accounts_of(supporter(1)) == []


async def test_pledge_after_the_launch_moment_is_refused(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(1)))
    clock.set(campaign.launch_at - timedelta(seconds=1))
    await core.pledges.record(ticket, profile(1))
    late = core.links.read(core.links.issue(campaign.ref, supporter(2)))
    clock.set(campaign.launch_at)
    error = await refused(core.pledges.record(late, profile(2)))
    assert error.key == "pledge.already_launched"
    assert await supporters(core, campaign) == 1


async def test_pledge_with_a_network_the_campaign_does_not_use(core: Chorus, live: Make) -> None:
    campaign = await live(networks=(MASTODON,))
    error = await refused(pledge(core, campaign, supporter(1), profile(1, X)))
    assert (error.key, error.text.params) == ("pledge.network_not_in_campaign", {"network": "x"})


async def test_personalised_message_is_kept(core: Chorus, live: Make) -> None:
    campaign = await live()
    mine = "Bees matter to me! #savebees https://bees.example/act"
    stored = await pledge(core, campaign, supporter(1), message=f"  {mine}  ")
    assert stored.message == mine
    same = await pledge(core, campaign, supporter(2), message=f" {campaign.message} ")
    assert same.message is None


@pytest.mark.parametrize(
    ("message", "network", "key"),
    [
        ("Bees! https://bees.example/act", MASTODON, "message.missing_hashtags"),
        ("Bees! #SaveBees", MASTODON, "message.missing_links"),
        (MESSAGE + " " + "z" * 260, X, "message.too_long"),
    ],
)
async def test_personalised_message_rules(
    core: Chorus, live: Make, message: str, network: Network, key: str
) -> None:
    campaign = await live()
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(1)))
    error = await refused(core.pledges.record(ticket, profile(1, network), message))
    assert error.key == key
    assert await supporters(core, campaign) == 0
    # nothing was used up: the same link works with a message that keeps the rules
    assert (await core.pledges.record(ticket, profile(1, network), MESSAGE)).id is not None


async def test_unpledge(core: Chorus, front: RecordingFrontEnd, live: Make) -> None:
    campaign = await live()
    fan = supporter(1)
    await pledge(core, campaign, fan, profile(1))
    await pledge(core, campaign, fan, profile(11, X))
    assert await core.pledges.unpledge(f"#{campaign.ref.lower()}", fan) == 2
    assert await supporters(core, campaign) == 0
    error = await refused(core.pledges.unpledge(campaign.ref, fan))
    assert (error.key, error.text.params) == ("unpledge.none", {"ref": campaign.ref})


async def test_unpledge_after_launch_is_refused(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    clock.set(campaign.launch_at)
    assert (await refused(core.pledges.unpledge(campaign.ref, supporter(1)))).key == (
        "unpledge.too_late"
    )
    assert await supporters(core, campaign) == 1


async def test_forget_erases_accounts_revokes_tokens_and_drops_stats(
    core: Chorus,
    front: RecordingFrontEnd,
    live: Make,
    mastodon: RecordingNetwork,
    x_network: RecordingNetwork,
) -> None:
    campaign = await promoted(core, live, goal=10)
    fan, other = supporter(1), supporter(2)
    await pledge(core, campaign, fan, profile(1, followers=100))
    await pledge(core, campaign, fan, profile(11, X, followers=50))
    await pledge(core, campaign, other, profile(2, followers=7))
    await core.cards.flush()
    front.sent.clear()
    x_network.fail_revoke = True  # a failed revocation: erasure still happens, and we say so
    result = await core.pledges.forget(fan)
    assert (result.accounts, result.pledges) == (2, 2)
    assert [(u.network, u.account) for u in result.unrevoked] == [(X, "@handle11")]
    assert mastodon.revoked == ["test-token-not-real-1"]
    assert x_network.revoked == ["test-token-not-real-11"]
    assert await core.repo.accounts_of(fan) == []
    assert await core.repo.pledges_of_supporter(fan) == []
    stats = await core.repo.campaign_stats(campaign.id or 0)
    assert (stats.supporters, stats.reach) == (1, 7)
    assert len(await core.repo.accounts_of(other)) == 1
    await core.cards.flush()
    [edit] = [s for s in front.sent if s.where.startswith("edit:group-1/")]
    assert edit.message.parts[3].params["supporters"] == 1
    assert await core.pledges.forget(fan) == Forgotten(accounts=0, pledges=0)


async def test_of_supporter_lists_pledges_with_campaign_and_account(
    core: Chorus, live: Make
) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    [(listed, shown, account)] = await core.pledges.of_supporter(supporter(1))
    assert (listed.campaign_id, shown.ref, account) == (
        campaign.id,
        campaign.ref,
        "@handle1@mastodon.example",
    )


async def test_a_blocked_private_chat_does_not_lose_the_pledge(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    front.refuse_users.add("1")
    stored = await pledge(core, campaign, supporter(1))
    assert stored.id is not None
    assert await supporters(core, campaign) == 1
