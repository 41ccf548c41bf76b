"""Manage links: signed with their own key, valid until 30 days after the launch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.networks import Network
from bot.domain.refs import ChatRef, UserRef
from bot.services.links import PledgeLinks
from bot.services.manage_links import MANAGE_GRACE, ManageLinks
from bot.testing.clock import FakeClock

SECRET = "test-secret-not-real-0123456789abcdef"
WEB_FAN = UserRef("web", "r4nd0m-id", "@fan@example.social", "fr")


def campaign(clock: FakeClock) -> Campaign:
    now = clock.now()
    return Campaign(
        ref="K7QX2M",
        title="Save the river",
        message="Save our river!",
        goal=10,
        launch_at=now + timedelta(days=2),
        networks=(Network("mastodon"),),
        organiser=UserRef("test", "1", "Olga", "en"),
        created_at=now,
        status=CampaignStatus.LIVE,
        origin_chat=ChatRef("test", "-100"),
    )


def test_a_manage_link_names_the_identity_and_the_campaign_until_it_expires() -> None:
    clock = FakeClock()
    links = ManageLinks(SECRET, clock, "https://chorus.example/")
    shown = campaign(clock)
    url = links.url(shown, WEB_FAN)
    token = url.removeprefix("https://chorus.example/manage/")

    ticket = links.read(token, "web")

    assert ticket.campaign_ref == "K7QX2M"
    assert ticket.supporter == WEB_FAN
    assert ticket.expires_at == shown.launch_at + MANAGE_GRACE
    clock.advance(ticket.expires_at - clock.now())
    with pytest.raises(DomainError) as refused:
        links.read(token, "web")
    assert refused.value.key == "web.manage.expired"


@pytest.mark.parametrize("spoil", ["other-key", "pledge-link", "tampered", "garbage"])
def test_forged_manage_links_are_invalid(spoil: str) -> None:
    clock = FakeClock()
    shown = campaign(clock)
    token = ManageLinks(SECRET, clock, "https://chorus.example").issue(shown, WEB_FAN)
    if spoil == "other-key":
        token = ManageLinks("another-secret-not-real-0123456789", clock, "x").issue(shown, WEB_FAN)
    elif spoil == "pledge-link":  # a pledge link is signed with another derived key
        token = PledgeLinks(SECRET, None, clock, timedelta(days=1)).issue(shown.ref, WEB_FAN)  # type: ignore[arg-type]
    elif spoil == "tampered":
        last = token[-1]
        token = token[:-1] + next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef" if c != last)
    else:
        token = "not-a-link"
    with pytest.raises(DomainError) as refused:
        ManageLinks(SECRET, clock, "https://chorus.example").read(token, "web")
    assert refused.value.key == "web.manage.invalid"
