"""Where a campaign was created: its card posted there once approved (unless the organiser
declined), the organiser told when that chat refuses, and the public page's chat link (the
first card's, or the organiser's invite), through a real core on SQLite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign, JoinLink
from bot.domain.cards import CardKind
from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.services.public_pages import PublicCampaign
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import GROUP, MODERATOR, ORGANISER, STRANGER, draft

Make = Callable[..., Awaitable[Campaign]]
CARD_LINK = f"https://chat.example/{GROUP.id}/"


async def created(core: Chorus, clock: FakeClock, *, promote: bool = True) -> Campaign:
    return await core.campaigns.submit(draft(clock), ORGANISER, GROUP, promote_origin=promote)


async def approved(core: Chorus, campaign: Campaign) -> Campaign:
    assert campaign.id is not None
    await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)
    return await core.campaigns.get(campaign.ref)


async def test_the_card_goes_to_the_origin_once_approved(
    core: Chorus, clock: FakeClock, front: RecordingFrontEnd
) -> None:
    campaign = await created(core, clock)
    assert campaign.promote_origin and front.to(f"chat:{GROUP.id}") == []
    live = await approved(core, campaign)
    (card,) = front.to(f"chat:{GROUP.id}")
    assert card.keys[0] == "card.title" and card.actions == [f"support:{live.ref}"]
    assert card.ref is not None
    assert live.join_link == JoinLink("test", f"{CARD_LINK}{card.ref.id}")
    assert live.id is not None
    (stored,) = await core.repo.cards_of(live.id, CardKind.PROMOTION)
    assert stored.message == card.ref


async def test_no_card_without_a_shared_origin(core: Chorus, clock: FakeClock) -> None:
    declined = await approved(core, await created(core, clock, promote=False))
    assert not declined.promote_origin and declined.join_link is None
    nowhere = await core.campaigns.submit(draft(clock), ORGANISER, None, promote_origin=True)
    assert not nowhere.promote_origin  # no chat to post in, whatever the front end said


async def test_the_organiser_decides_until_approval(
    core: Chorus, clock: FakeClock, front: RecordingFrontEnd
) -> None:
    campaign = await created(core, clock)
    with pytest.raises(NotAllowed):
        await core.campaigns.set_origin_promotion(campaign.ref, STRANGER, False)
    off = await core.campaigns.set_origin_promotion(campaign.ref, ORGANISER, False)
    assert not off.promote_origin
    await approved(core, off)
    assert front.to(f"chat:{GROUP.id}") == []
    with pytest.raises(DomainError) as late:
        await core.campaigns.set_origin_promotion(campaign.ref, ORGANISER, True)
    assert late.value.text.key == "origin.decided"


async def test_a_campaign_without_origin_has_no_choice(core: Chorus, clock: FakeClock) -> None:
    campaign = await core.campaigns.submit(draft(clock), ORGANISER, None)
    with pytest.raises(DomainError) as refused:
        await core.campaigns.set_origin_promotion(campaign.ref, ORGANISER, True)
    assert refused.value.text.key == "origin.none"


async def test_a_refusing_origin_is_told_to_the_organiser(
    core: Chorus, clock: FakeClock, front: RecordingFrontEnd
) -> None:
    front.refuse_chats.add(GROUP.id)
    live = await approved(core, await created(core, clock))
    assert live.join_link is None
    told = front.keys_to(f"user:{ORGANISER.id}")
    assert told == ["organiser.approved", "card.page", "origin.unreachable"]


async def test_the_invite_is_the_organisers_and_wins(
    core: Chorus, clock: FakeClock, front: RecordingFrontEnd
) -> None:
    campaign = await created(core, clock)
    invite = "https://chat.example/invite/abc"
    with pytest.raises(NotAllowed):
        await core.campaigns.set_invite(campaign.ref, STRANGER, "test", invite)
    for bad in (
        "http://chat.example/invite/abc",
        "javascript:alert(1)",
        "https://a b",
        "https://" + "a" * 200,
    ):
        with pytest.raises(InvalidInput):
            await core.campaigns.set_invite(campaign.ref, ORGANISER, "test", bad)
    given = await core.campaigns.set_invite(campaign.ref, ORGANISER, "test", invite)
    assert given.join_link == JoinLink("test", invite, invite=True)
    live = await approved(core, given)
    assert front.to(f"chat:{GROUP.id}") != []  # the card is still posted...
    assert live.join_link == JoinLink("test", invite, invite=True)  # ...the invite stays


async def test_the_page_shows_the_link_while_live(core: Chorus, clock: FakeClock) -> None:
    campaign = await core.campaigns.submit(draft(clock), ORGANISER, GROUP)
    await core.campaigns.set_invite(campaign.ref, ORGANISER, "test", "https://chat.example/i")
    live = await approved(core, await core.campaigns.get(campaign.ref))
    shown = await core.public_pages.show(live.ref)
    assert isinstance(shown, PublicCampaign)
    assert shown.join == JoinLink("test", "https://chat.example/i", invite=True)
    await core.campaigns.cancel(live.ref, ORGANISER)
    with pytest.raises(DomainError) as late:
        await core.campaigns.set_invite(live.ref, ORGANISER, "test", "https://chat.example/j")
    assert late.value.text.key == "invite.too_late"
