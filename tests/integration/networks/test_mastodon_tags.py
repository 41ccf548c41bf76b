"""Counting a hashtag on Mastodon (``TagCounter``) against the fake's public tag timeline:
posts inside the window only, the supporters' own posts told apart by address, pages read
with ``max_id`` until the window's start, a page cap, and servers that will not answer."""

from __future__ import annotations

from datetime import timedelta

from adapters.networks.mastodon import TAG_PAGE, TAG_PAGES, MastodonNetwork
from bot.domain.account import SocialAccount
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon


async def test_posts_in_the_window_are_counted_once_each_page_by_page(
    mastodon_network: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
    clock: FakeClock,
) -> None:
    launch = clock.now()
    fake = fake_mastodon
    fake.add_remote_status(
        "Before #SaveBees", launch - timedelta(minutes=5), "https://a.example/1"
    )
    clock.advance(timedelta(minutes=2))
    ours = await mastodon_network.post(account, "Now! #savebees https://bees.example", "k1")
    assert ours.url is not None
    others = [
        fake.add_remote_status(
            f"Me too #SaveBees {n}", launch + timedelta(minutes=3, seconds=n), f"https://b/{n}"
        )
        for n in range(TAG_PAGE + 5)  # more than one page
    ]
    fake.add_remote_status("Late #savebees", launch + timedelta(minutes=61), "https://c.example/1")
    fake.add_remote_status(
        "Quiet #savebees", launch + timedelta(minutes=9), "https://d/1", "unlisted"
    )
    fake.add_remote_status("No tag #savebeesnow", launch + timedelta(minutes=9), "https://e/1")
    fake.add_remote_status("Other #saveants", launch + timedelta(minutes=9), "https://f/1")
    clock.advance(timedelta(hours=1))

    sample = await mastodon_network.tagged_posts(
        fake.host, "SaveBees", launch, launch + timedelta(hours=1)
    )

    assert sample is not None and sample.complete
    assert sample.urls == {ours.url, *(s["url"] for s in others)}
    pages = [r for r in fake.requests if r.path.startswith("/api/v1/timelines/tag/")]
    assert len(pages) == 2
    assert (
        "max_id" not in pages[0].query and pages[1].query["max_id"] == others[6]["id"]
    )  # after the late one
    assert all("Authorization" not in r.headers for r in pages)  # anonymous: no token sent


async def test_a_page_cap_bounds_the_reading(
    mastodon_network: MastodonNetwork, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    launch = clock.now()
    for n in range(TAG_PAGE * TAG_PAGES + 1):
        fake_mastodon.add_remote_status(
            "#busy", launch + timedelta(seconds=n), f"https://busy.example/{n}"
        )
    sample = await mastodon_network.tagged_posts(
        fake_mastodon.host, "busy", launch, launch + timedelta(hours=1)
    )
    assert sample is not None and not sample.complete
    assert len(sample.urls) == TAG_PAGE * TAG_PAGES


async def test_closed_or_unreachable_servers_give_none(
    mastodon_network: MastodonNetwork, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    launch = clock.now()
    fake_mastodon.public_timelines = False
    until = launch + timedelta(hours=1)
    assert await mastodon_network.tagged_posts(fake_mastodon.host, "x", launch, until) is None
    assert await mastodon_network.tagged_posts("127.0.0.1:9", "x", launch, until) is None
    fake_mastodon.public_timelines = True
    fake_mastodon.flood("/api/v1/timelines/tag/", size=5_000_000)
    assert await mastodon_network.tagged_posts(fake_mastodon.host, "x", launch, until) is None
