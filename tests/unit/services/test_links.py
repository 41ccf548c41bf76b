"""Signed, expiring, single-use pledge links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import DomainError
from bot.ports import Repository
from bot.services.links import PledgeLinks
from bot.testing.clock import FakeClock
from tests.unit.services.conftest import SECRET, supporter

TTL = timedelta(minutes=30)


@pytest.fixture
def links(repo: Repository, clock: FakeClock) -> PledgeLinks:
    return PledgeLinks(SECRET, repo, clock, TTL)


def refused(links: PledgeLinks, token: str) -> str:
    with pytest.raises(DomainError) as exc:
        links.read(token)
    return exc.value.key


def test_issue_then_read(links: PledgeLinks, clock: FakeClock) -> None:
    who = supporter(7, "fr")
    ticket = links.read(links.issue("K7QX2M", who))
    assert ticket.campaign_ref == "K7QX2M"
    assert ticket.supporter == who
    assert ticket.expires_at == clock.now() + TTL
    assert ticket.nonce


def test_each_link_is_different(links: PledgeLinks) -> None:
    who = supporter(7)
    first, second = links.issue("K7QX2M", who), links.issue("K7QX2M", who)
    assert first != second
    assert links.read(first).nonce != links.read(second).nonce


def test_link_is_url_safe(links: PledgeLinks) -> None:
    token = links.issue("K7QX2M", supporter(7))
    assert all(c.isalnum() or c in "-_." for c in token)


def test_expired_link(links: PledgeLinks, clock: FakeClock) -> None:
    token = links.issue("K7QX2M", supporter(7))
    clock.advance(TTL - timedelta(seconds=1))
    assert links.read(token).campaign_ref == "K7QX2M"
    clock.advance(timedelta(seconds=1))
    assert refused(links, token) == "link.expired"


def test_signed_tells_what_an_expired_link_said_but_not_a_forged_one(
    links: PledgeLinks, clock: FakeClock
) -> None:
    token = links.issue("K7QX2M", supporter(7))
    clock.advance(TTL * 2)
    ticket = links.signed(token)
    assert ticket is not None and ticket.campaign_ref == "K7QX2M"
    assert links.signed(token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")) is None
    assert links.signed("not-a-link") is None


# The last character too: its spare base64 bits are checked (see the property tests).
@pytest.mark.parametrize("position", [0, 10, -1, -2, -10])
def test_tampered_link(links: PledgeLinks, position: int) -> None:
    token = links.issue("K7QX2M", supporter(7))
    swapped = "A" if token[position] != "A" else "B"
    chars = list(token)
    chars[position] = swapped
    assert refused(links, "".join(chars)) == "link.invalid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b", "e30.bad-signature"])
def test_garbage_link(links: PledgeLinks, token: str) -> None:
    assert refused(links, token) == "link.invalid"


def test_link_signed_with_another_secret(
    links: PledgeLinks, repo: Repository, clock: FakeClock
) -> None:
    other = PledgeLinks("other-secret-not-real-123456", repo, clock, TTL)
    assert refused(links, other.issue("K7QX2M", supporter(7))) == "link.invalid"


async def test_a_link_is_used_once(links: PledgeLinks) -> None:
    ticket = links.read(links.issue("K7QX2M", supporter(7)))
    await links.redeem(ticket)
    with pytest.raises(DomainError) as exc:
        await links.redeem(ticket)
    assert exc.value.key == "link.used"
    # another link for the same person and campaign still works
    await links.redeem(links.read(links.issue("K7QX2M", supporter(7))))


async def test_a_link_decoded_once_is_still_checked_on_every_read(
    links: PledgeLinks, clock: FakeClock
) -> None:
    token = links.issue("K7QX2M", supporter(7))
    for _ in range(3):  # its page, its form, its callback
        assert links.read(token).campaign_ref == "K7QX2M"
    assert links._decoded.cache_info().misses == 1  # the signature was checked once
    assert refused(links, token[:-1] + ("A" if token[-1] != "A" else "B")) == "link.invalid"
    assert refused(links, "garbage") == "link.invalid"
    assert links._decoded.cache_info().currsize == 1  # a refused link is never kept
    ticket, campaign = await links.open_with_campaign(token)
    assert campaign is None  # no campaign K7QX2M is stored here
    await links.redeem(ticket)
    with pytest.raises(DomainError) as exc:
        await links.open_with_campaign(token)
    assert exc.value.key == "link.used"
    clock.advance(TTL)
    assert refused(links, token) == "link.expired"
