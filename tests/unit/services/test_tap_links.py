"""Signed, expiring, reusable tap links (the short link in a tap message)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.networks.x import X
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.services.links import PledgeLinks
from bot.services.tap_links import TAP_LINK_MARGIN, TapLinks
from bot.testing.clock import FakeClock
from tests.unit.services.conftest import MESSAGE, ORGANISER, SECRET, supporter

READBACK = timedelta(minutes=120)
PUBLIC_URL = "https://chorus.example"


@pytest.fixture
def links(clock: FakeClock) -> TapLinks:
    return TapLinks(SECRET, clock, PUBLIC_URL + "/", READBACK)


def launched(clock: FakeClock) -> Campaign:
    return Campaign(
        ref="K7QX2M",
        title="Save the bees",
        message=MESSAGE,
        goal=0,
        launch_at=clock.now(),
        networks=(X,),
        organiser=ORGANISER,
        created_at=clock.now() - timedelta(days=3),
        status=CampaignStatus.LAUNCHED,
        id=3,
    )


def pledge_of(campaign: Campaign, pledge_id: int = 41) -> Pledge:
    return Pledge(
        campaign_id=campaign.id or 0,
        supporter=supporter(7),
        account_id=9,
        network=X,
        created_at=campaign.created_at,
        id=pledge_id,
    )


def refused(links: TapLinks, token: str) -> str:
    with pytest.raises(DomainError) as exc:
        links.read(token)
    return exc.value.key


def test_a_link_names_its_pledge_until_after_the_report(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    ticket = links.read(links.issue(campaign, pledge_of(campaign)))
    assert ticket.pledge_id == 41
    assert ticket.expires_at == campaign.launch_at + READBACK + TAP_LINK_MARGIN


def test_the_url_is_short_and_on_our_site(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    url = links.url(campaign, pledge_of(campaign))
    token = links.issue(campaign, pledge_of(campaign))
    assert url == f"{PUBLIC_URL}/tap/{token}"
    assert len(url) < 120  # whatever the length of the message


def test_the_offer_and_the_reminder_carry_the_same_link(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    offer = links.url(campaign, pledge_of(campaign))
    clock.advance(timedelta(minutes=30))
    assert links.url(campaign, pledge_of(campaign)) == offer


def test_each_pledge_has_its_own_link(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    assert links.issue(campaign, pledge_of(campaign, 1)) != links.issue(
        campaign, pledge_of(campaign, 2)
    )


def test_a_link_can_be_read_many_times(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    token = links.issue(campaign, pledge_of(campaign))
    assert links.read(token) == links.read(token)


def test_expired_link(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    token = links.issue(campaign, pledge_of(campaign))
    clock.advance(READBACK + TAP_LINK_MARGIN - timedelta(seconds=1))
    assert links.read(token).pledge_id == 41
    clock.advance(timedelta(seconds=1))
    assert refused(links, token) == "web.tap.expired"


def test_tampered_link(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    token = links.issue(campaign, pledge_of(campaign))
    payload, signature = token.split(".")
    other = links.issue(campaign, pledge_of(campaign, 42)).split(".")[0]
    assert refused(links, f"{other}.{signature}") == "web.tap.invalid"
    for position in (0, 5, -5):  # not the last one: its low bits are base64 padding
        chars = list(token)
        chars[position] = "A" if chars[position] != "A" else "B"
        assert refused(links, "".join(chars)) == "web.tap.invalid"
    assert refused(links, payload) == "web.tap.invalid"
    assert refused(links, "") == "web.tap.invalid"
    assert refused(links, "not-a-real-token") == "web.tap.invalid"


def test_a_link_signed_with_another_secret_is_refused(clock: FakeClock) -> None:
    campaign = launched(clock)
    other = TapLinks("another-secret-not-real-987654", clock, PUBLIC_URL, READBACK)
    mine = TapLinks(SECRET, clock, PUBLIC_URL, READBACK)
    assert refused(mine, other.issue(campaign, pledge_of(campaign))) == "web.tap.invalid"


async def test_a_pledge_link_is_not_a_tap_link(
    links: TapLinks, clock: FakeClock, repo: Repository
) -> None:
    """Same SECRET_KEY, different purpose: neither key signs for the other."""
    pledge_links = PledgeLinks(SECRET, repo, clock, timedelta(hours=1))
    token = pledge_links.issue("K7QX2M", UserRef("test", "7", "Sam", "en"))
    assert refused(links, token) == "web.tap.invalid"
    campaign = launched(clock)
    with pytest.raises(DomainError) as exc:
        pledge_links.read(links.issue(campaign, pledge_of(campaign)))
    assert exc.value.key == "link.invalid"


def test_an_unsaved_pledge_has_no_link(links: TapLinks, clock: FakeClock) -> None:
    campaign = launched(clock)
    with pytest.raises(ValueError):
        links.issue(campaign, replace(pledge_of(campaign), id=None))
