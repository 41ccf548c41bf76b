"""Organiser and moderator use cases through a real core and a real SQLite repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from adapters.networks.x import X
from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CardKind
from bot.domain.errors import DomainError, NotAllowed, NotFound
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import (
    GROUP,
    MODERATOR,
    ORGANISER,
    STRANGER,
    draft,
    edits,
    pledge,
    profile,
    supporter,
)

Make = Callable[..., Awaitable[Campaign]]


@dataclass
class RecordingWatcher:
    seen: list[tuple[str, CampaignStatus]] = field(default_factory=list)

    async def campaign_changed(self, campaign: Campaign) -> None:
        self.seen.append((campaign.ref, campaign.status))


async def test_submit_stores_the_campaign_and_posts_a_moderation_card(
    core: Chorus, front: RecordingFrontEnd, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    assert campaign.status is CampaignStatus.PENDING_REVIEW
    assert (campaign.organiser, campaign.origin_chat) == (ORGANISER, GROUP)
    stored = await core.repo.get_campaign(campaign.id)
    assert stored == campaign
    [card] = front.to("moderators")
    assert card.keys[0] == "moderation.header"
    assert card.actions == [
        f"approve:{campaign.id}",
        f"reject:{campaign.id}",
        f"changes:{campaign.id}",
    ]
    assert "Save the bees" in card.text and "Olga" in card.text
    [posted] = await core.repo.cards_of(campaign.id, CardKind.MODERATION)
    assert posted.message == card.ref
    assert await core.campaigns.get(f"#{campaign.ref.lower()}") == campaign


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"lead": timedelta(minutes=59)}, "launch.too_soon"),
        ({"lead": timedelta(days=367)}, "launch.too_far"),
        ({"message": "m" * 300}, "message.too_long"),  # too long for X, one of its networks
        ({"networks": ()}, "networks.none_chosen"),
        ({"title": "ab"}, "title.too_short"),  # a draft stored before today's rules
        ({"goal": -1}, "goal.negative"),
        ({"goal": 10**9}, "goal.too_big"),
    ],
)
async def test_submit_refusals_store_and_send_nothing(
    core: Chorus, front: RecordingFrontEnd, clock: FakeClock, changes: dict, key: str
) -> None:
    with pytest.raises(DomainError) as exc:
        await core.campaigns.submit(draft(clock, **changes), ORGANISER, GROUP)
    assert exc.value.key == key
    assert await core.repo.campaigns_of(ORGANISER) == []
    assert front.sent == []


async def test_submit_is_refused_once_the_organiser_has_the_most_waiting(
    core: Chorus, front: RecordingFrontEnd, clock: FakeClock, submitted: Make
) -> None:
    first, _, _ = [await submitted(title=f"Campaign {n}") for n in range(3)]
    front.sent.clear()

    with pytest.raises(DomainError) as exc:
        await core.campaigns.submit(draft(clock, title="One too many"), ORGANISER, GROUP)

    assert (exc.value.key, exc.value.text.params) == ("campaign.too_many_pending", {"max": 3})
    assert len(await core.repo.campaigns_of(ORGANISER)) == 3
    assert front.sent == []  # the moderators are not bothered
    assert first.id is not None
    await core.moderation.approve(
        first.id, MODERATOR, may_moderate=True
    )  # one decided: room for one more
    again = await core.campaigns.submit(draft(clock, title="One too many"), ORGANISER, GROUP)
    assert again.status is CampaignStatus.PENDING_REVIEW


async def test_the_queue_cap_counts_each_organiser_alone(
    core: Chorus, clock: FakeClock, submitted: Make
) -> None:
    for n in range(3):
        await submitted(title=f"Campaign {n}")

    other = await core.campaigns.submit(draft(clock), STRANGER, GROUP)

    assert other.status is CampaignStatus.PENDING_REVIEW


async def test_the_watcher_hears_every_submission_and_decision(
    core: Chorus, clock: FakeClock
) -> None:
    watcher = RecordingWatcher()
    campaigns = replace(core.campaigns, watcher=watcher)  # built with it, as the root does
    moderation = replace(core.moderation, campaigns=campaigns)
    first, second, third = [
        await campaigns.submit(draft(clock), ORGANISER, GROUP) for _ in range(3)
    ]
    assert first.id and second.id and third.id
    await moderation.approve(first.id, MODERATOR, may_moderate=True)
    await moderation.reject(second.id, MODERATOR, "no", may_moderate=True)
    await campaigns.cancel(third.ref, ORGANISER)
    await campaigns.cancel(first.ref, ORGANISER)
    assert watcher.seen == [
        *((c.ref, CampaignStatus.PENDING_REVIEW) for c in (first, second, third)),
        (first.ref, CampaignStatus.LIVE),
        (second.ref, CampaignStatus.REJECTED),
        (third.ref, CampaignStatus.CANCELLED),
        (first.ref, CampaignStatus.CANCELLED),
    ]


async def test_cancel_by_a_stranger_is_refused(core: Chorus, live: Make) -> None:
    campaign = await live()
    with pytest.raises(NotAllowed) as exc:
        await core.campaigns.cancel(campaign.ref, STRANGER)
    assert exc.value.key == "campaign.not_yours"
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE


async def test_cancel_by_the_organiser_tells_supporters_once_each(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    fan, quitter = supporter(1), supporter(2)
    await pledge(core, campaign, fan, profile(1))
    await pledge(core, campaign, fan, profile(11, X))  # a second account
    await pledge(core, campaign, quitter, profile(2))
    await core.pledges.unpledge(campaign.ref, quitter)
    await core.cards.flush()
    front.sent.clear()
    # Olga's own name differs here, but identity is platform + id.
    cancelled = await core.campaigns.cancel(campaign.ref, UserRef("test", ORGANISER.id, "O."))
    assert cancelled.status is CampaignStatus.CANCELLED
    assert front.keys_to(f"user:{fan.id}") == ["supporter.campaign_cancelled"]
    assert front.to(f"user:{quitter.id}") == []
    [card] = [s for s in front.sent if s.where.startswith("edit:group-1/")]
    assert card.keys[-1] == "card.status_cancelled" and card.actions == []


async def test_cancel_a_pending_campaign_removes_the_moderators_buttons(
    core: Chorus, front: RecordingFrontEnd, submitted: Make
) -> None:
    campaign = await submitted()
    assert campaign.id is not None
    [card] = front.to("moderators")
    await core.campaigns.cancel(campaign.ref, ORGANISER)
    [edit] = front.to(f"edit:mods/{card.ref.id}")
    assert edit.actions == [] and edit.keys[-1] == "card.status_cancelled"
    with pytest.raises(DomainError) as exc:
        await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    assert exc.value.key == "campaign.cannot_live"


async def test_cancel_twice_is_refused_with_the_status(core: Chorus, live: Make) -> None:
    campaign = await live()
    await core.campaigns.cancel(campaign.ref, ORGANISER)
    with pytest.raises(DomainError) as exc:
        await core.campaigns.cancel(campaign.ref, ORGANISER)
    assert exc.value.key == "campaign.cannot_cancelled"
    assert exc.value.text.params["status"].key == "status.cancelled"


async def test_cancel_unknown_ref(core: Chorus) -> None:
    with pytest.raises(NotFound) as exc:
        await core.campaigns.cancel("#nope42", ORGANISER)
    assert (exc.value.key, exc.value.text.params) == ("campaign.not_found", {"ref": "NOPE42"})


async def approved(core: Chorus, clock: FakeClock) -> Campaign:
    """A campaign submitted and approved in ``core`` (one with its own front ends)."""
    campaign = await core.campaigns.submit(draft(clock), ORGANISER, GROUP)
    return await core.moderation.approve(campaign.id or 0, MODERATOR, may_moderate=True)


async def test_promote_by_the_organiser_posts_a_card_with_support(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    card = await core.campaigns.promote(
        campaign.ref, GROUP, ORGANISER, requester_is_admin=False, language="fr"
    )
    assert (card.kind, card.language, card.message.chat) == (CardKind.PROMOTION, "fr", GROUP)
    [sent] = front.to("chat:group-1")
    assert sent.actions == [f"support:{campaign.ref}"]
    assert sent.language == "fr"
    assert await core.announcer.promoted_chats(campaign.id or 0) == [(GROUP, "fr")]


async def test_promoting_again_in_a_chat_moves_the_card_there(
    core: Chorus, front: RecordingFrontEnd, live: Make
) -> None:
    campaign = await live()
    assert campaign.id is not None
    elsewhere = ChatRef("test", "group-2")
    first = await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    there = await core.campaigns.promote(
        campaign.ref, elsewhere, ORGANISER, requester_is_admin=False
    )
    assert front.deleted == []

    again = await core.campaigns.promote(
        campaign.ref, GROUP, ORGANISER, requester_is_admin=False, language="fr"
    )

    assert front.deleted == [first.message]  # the old card leaves the chat
    assert len(front.to("chat:group-1")) == 2
    assert await core.repo.cards_of(campaign.id, CardKind.PROMOTION) == [there, again]
    assert await core.announcer.promoted_chats(campaign.id) == [(elsewhere, "en"), (GROUP, "fr")]
    front.sent.clear()
    await core.cards.refresh_now(campaign.id)
    assert sorted(edits(front)) == [
        f"edit:group-1/{again.message.id}",
        f"edit:group-2/{there.message.id}",
    ]


class ForgetfulFrontEnd(RecordingFrontEnd):
    """Someone deleted the bot's messages by hand: deleting one again fails."""

    async def delete(self, ref: MessageRef) -> None:
        raise LookupError("Bad Request: message to delete not found")


async def test_a_card_already_gone_from_the_chat_still_moves(
    make_core: Callable[..., Chorus], clock: FakeClock
) -> None:
    core = make_core(front_ends=[ForgetfulFrontEnd()])
    campaign = await approved(core, clock)
    await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)

    again = await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)

    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == [again]


class FlakyFrontEnd(RecordingFrontEnd):
    """A chat that stops accepting the bot's messages once ``refusing`` is set."""

    refusing: bool = False

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        if self.refusing:
            raise PermissionError("Forbidden: bot was kicked from the group chat")
        return await super().send(chat, message, language)


async def test_a_failed_promote_leaves_the_card_in_place(
    make_core: Callable[..., Chorus], clock: FakeClock
) -> None:
    front = FlakyFrontEnd()
    core = make_core(front_ends=[front])
    campaign = await approved(core, clock)
    card = await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    front.refusing = True

    with pytest.raises(DomainError) as exc:
        await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)

    assert exc.value.key == "promote.send_failed"
    assert front.deleted == []
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == [card]


async def test_promote_by_a_chat_admin_is_allowed_by_a_stranger_not(
    core: Chorus, live: Make
) -> None:
    campaign = await live()
    with pytest.raises(NotAllowed) as exc:
        await core.campaigns.promote(campaign.ref, GROUP, STRANGER, requester_is_admin=False)
    assert exc.value.key == "promote.not_allowed"
    card = await core.campaigns.promote(campaign.ref, GROUP, STRANGER, requester_is_admin=True)
    assert card.id is not None


async def test_promote_refused_when_not_live(core: Chorus, submitted: Make) -> None:
    campaign = await submitted()
    with pytest.raises(DomainError) as exc:
        await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=True)
    assert exc.value.key == "promote.not_live"
    assert exc.value.text.params["status"].key == "status.pending_review"
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []


async def test_promote_where_the_bot_cannot_post(
    make_core: Callable[..., Chorus], clock: FakeClock
) -> None:
    front = FlakyFrontEnd()
    front.refusing = True  # the bot is not a member of the group chat
    core = make_core(front_ends=[front])
    campaign = await approved(core, clock)
    with pytest.raises(DomainError) as exc:
        await core.campaigns.promote(campaign.ref, GROUP, ORGANISER, requester_is_admin=False)
    assert exc.value.key == "promote.send_failed"
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []


async def test_organiser_list_has_figures(core: Chorus, live: Make) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1), profile(1, followers=120))
    [(listed, stats)] = await core.campaigns.of_organiser(ORGANISER)
    assert listed.ref == campaign.ref
    assert (stats.supporters, stats.reach) == (1, 120)
    assert await core.campaigns.of_organiser(STRANGER) == []
