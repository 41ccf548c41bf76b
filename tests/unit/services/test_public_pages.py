"""The public page's service without HTTP: which campaigns are public, the share links the
networks' specs declare, the visitor's instance and the Telegram deep link."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.networks.mastodon import MASTODON_SPEC
from adapters.networks.x_spec import X_SPEC
from bot.domain.campaign import Campaign, CampaignStatus, new_ref
from bot.domain.networks import LengthRule, Network, NetworkSpec
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.services.public_pages import Hidden, PublicCampaign, PublicPages, instance_host
from bot.services.recruits import RecruitCodes
from bot.testing.clock import FakeClock
from tests.unit.services.conftest import SECRET

URL = "https://chorus.example"
PLAIN = NetworkSpec(id=Network("plain"), order=0, length=LengthRule(limit=100))


def pages(repo: Repository, clock: FakeClock, username: str | None = "ChorusBot") -> PublicPages:
    registry = NetworkRegistry()
    registry.know(X_SPEC)  # known, not configured: sharing on it needs no account with us
    registry.know(MASTODON_SPEC)
    registry.know(PLAIN)  # declares no share page
    return PublicPages(repo, clock, registry, URL, username, RecruitCodes(SECRET, repo))


async def campaign(repo: Repository, clock: FakeClock, status: CampaignStatus) -> Campaign:
    return await repo.add_campaign(
        Campaign(
            ref=new_ref(),
            title="Bees & “honey”",
            message="Save the bees #SaveBees",
            goal=3,
            launch_at=clock.now() + timedelta(hours=5),
            networks=(X_SPEC.id,),
            organiser=UserRef("test", "1", "Olga"),
            created_at=clock.now(),
            status=status,
        )
    )


@pytest.mark.parametrize(
    ("typed", "host"),
    [
        ("mastodon.social", "mastodon.social"),
        ("  HTTPS://Mastodon.Social/@me ", "mastodon.social"),
        ("@me@fosstodon.org", "fosstodon.org"),
        ("localhost", None),
        ("127.0.0.1", None),
        ("-bad-.example", None),
        ("evil.example:8443", None),
        ("a b.example", None),
        ("", None),
    ],
)
def test_instance_host(typed: str, host: str | None) -> None:
    assert instance_host(typed) == host


async def test_share_links_come_from_the_specs_then_the_other_places(
    repo: Repository, clock: FakeClock
) -> None:
    shown = await pages(repo, clock).show((await campaign(repo, clock, CampaignStatus.LIVE)).ref)

    assert isinstance(shown, PublicCampaign)
    assert [link.name_key for link in shown.share] == [
        "network.x",
        "web.public.share_bluesky",
        "web.public.share_telegram",
        "web.public.share_whatsapp",
        "web.public.share_email",
    ]
    x = urlsplit(shown.share[0].url)
    assert parse_qs(x.query) == {"text": ["Bees & “honey”"], "url": [shown.page_url]}
    assert shown.instance_shares == (MASTODON_SPEC.id,)
    assert shown.telegram_url == f"https://t.me/ChorusBot?start={shown.campaign.ref}"
    assert shown.time_left == timedelta(hours=5)


async def test_instance_share_goes_to_the_typed_host_with_the_text_encoded(
    repo: Repository, clock: FakeClock
) -> None:
    live = await campaign(repo, clock, CampaignStatus.LIVE)
    service = pages(repo, clock)

    target = await service.instance_share(live.ref, MASTODON_SPEC.id, "@me@Fosstodon.org")

    assert isinstance(target, str)
    parts = urlsplit(target)
    assert (parts.netloc, parts.path) == ("fosstodon.org", "/share")
    assert parse_qs(parts.query) == {"text": [f"Bees & “honey” {URL}/c/{live.ref}"]}
    assert await service.instance_share(live.ref, MASTODON_SPEC.id, "nope") is None
    assert await service.instance_share(live.ref, X_SPEC.id, "x.com") == Hidden()
    assert await service.instance_share(live.ref, PLAIN.id, "a.example") == Hidden()


@pytest.mark.parametrize(
    ("status", "cancelled"),
    [
        (CampaignStatus.DRAFT, False),
        (CampaignStatus.PENDING_REVIEW, False),
        (CampaignStatus.REJECTED, False),
        (CampaignStatus.EXPIRED, False),
        (CampaignStatus.CANCELLED, True),
    ],
)
async def test_only_approved_campaigns_are_public(
    repo: Repository, clock: FakeClock, status: CampaignStatus, cancelled: bool
) -> None:
    hidden = await campaign(repo, clock, status)

    assert await pages(repo, clock).show(hidden.ref) == Hidden(cancelled=cancelled)


async def test_no_telegram_button_without_a_valid_username_or_once_closed(
    repo: Repository, clock: FakeClock
) -> None:
    live = await campaign(repo, clock, CampaignStatus.LIVE)
    done = await campaign(repo, clock, CampaignStatus.FAILED)

    for username in (None, "", "bad name?x"):
        shown = await pages(repo, clock, username).show(live.ref)
        assert isinstance(shown, PublicCampaign) and shown.telegram_url is None
    shown = await pages(repo, clock, "@ChorusBot").show(done.ref)
    assert isinstance(shown, PublicCampaign) and shown.telegram_url is None
    assert shown.missed


async def test_time_left_is_none_once_the_moment_passed(
    repo: Repository, clock: FakeClock
) -> None:
    live = await campaign(repo, clock, CampaignStatus.LIVE)
    clock.advance(timedelta(hours=6))

    shown = await pages(repo, clock).show(live.ref)

    assert isinstance(shown, PublicCampaign) and shown.time_left is None
