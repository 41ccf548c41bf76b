"""Shared cards (placed by people, e.g. through Telegram's inline mode) on both back ends:
the lookup offers live campaigns only, and a campaign keeps its most recent placed cards."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.campaign import CampaignStatus
from bot.domain.cards import CardKind, PostedCard
from bot.domain.refs import ChatRef, MessageRef
from bot.ports import Repository
from bot.services.shared_cards import SharedCards
from bot.testing.clock import FakeClock
from tests.integration.storage.builders import T0, campaign


def placed(n: int) -> MessageRef:
    return MessageRef(ChatRef("telegram", "inline"), f"AgAAA-{n}")


async def test_offers_live_campaigns_by_ref_then_title(any_repo: Repository) -> None:
    clock = FakeClock(T0)
    river = await any_repo.add_campaign(campaign("RIVER1", status=CampaignStatus.LIVE))
    later = await any_repo.add_campaign(
        campaign(
            "LATER1",
            title="River and sea, RIVER1 too",
            status=CampaignStatus.LIVE,
            launch_at=T0 + timedelta(days=4),
        )
    )
    await any_repo.add_campaign(campaign("WAIT01"))  # pending review, same title
    await any_repo.add_campaign(campaign("GONE01", status=CampaignStatus.REJECTED))
    past = campaign("PAST01", status=CampaignStatus.LIVE, launch_at=T0 - timedelta(minutes=1))
    await any_repo.add_campaign(past)
    shared = SharedCards(any_repo, clock)

    assert [o.campaign.ref for o in await shared.offer("river1")] == ["RIVER1", "LATER1"]
    assert [o.campaign.ref for o in await shared.offer("#river1")] == ["RIVER1"]
    assert [o.campaign.ref for o in await shared.offer("save RIVER")] == ["RIVER1"]
    assert [o.campaign.ref for o in await shared.offer("")] == ["RIVER1", "LATER1"]
    assert [o.campaign.ref for o in await shared.offer("", limit=1)] == ["RIVER1"]
    assert await shared.offer("wait01") == [] and await shared.offer("past01") == []
    (offer,) = await shared.offer("sea")
    assert offer.campaign == later and offer.stats.supporters == 0
    assert offer.card.buttons[0][0].action == "support:LATER1"
    assert river.id is not None


async def test_a_campaign_keeps_its_most_recent_placed_cards(any_repo: Repository) -> None:
    clock = FakeClock(T0)
    stored = await any_repo.add_campaign(campaign(status=CampaignStatus.LIVE))
    other = await any_repo.add_campaign(campaign("OTHER1", status=CampaignStatus.LIVE))
    assert stored.id is not None and other.id is not None
    promo = await any_repo.add_card(
        PostedCard(stored.id, CardKind.PROMOTION, MessageRef(ChatRef("telegram", "-1"), "5"), T0)
    )
    shared = SharedCards(any_repo, clock, kept=2)
    await shared.placed("other1", placed(99), "en")
    for n in range(4):
        clock.advance(timedelta(seconds=1))
        card = await shared.placed(stored.ref, placed(n), "fr")
        assert card is not None and card.kind is CardKind.SHARED and card.language == "fr"

    kept = await any_repo.cards_of(stored.id, CardKind.SHARED)
    assert [c.message for c in kept] == [placed(2), placed(3)]
    assert await any_repo.cards_of(stored.id, CardKind.PROMOTION) == [promo]  # untouched
    assert [c.message for c in await any_repo.cards_of(other.id)] == [placed(99)]
    assert await shared.placed("NOSUCH", placed(7), "en") is None
