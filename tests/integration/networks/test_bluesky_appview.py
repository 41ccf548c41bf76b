"""Bluesky's read side over real HTTP against the loopback AppView: the author feed paged
back to the launch (own posts only, shortened links read in full), followers clamped,
429s as a delayed outcome, and the guards (address, size cap, what goes in a query)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.networks.atproto_pds import CreatedRecord
from adapters.networks.bluesky import BLUESKY, FEED_PAGE, FEED_PAGES, BlueskyNetwork
from bot.blast.matching import find_campaign_post
from bot.domain.account import FOLLOWERS_MAX, SocialAccount, TokenSet
from bot.domain.outcomes import OutcomeKind
from bot.domain.refs import UserRef
from bot.ports import NetworkFailure
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.bluesky_appview import FakeAppView, rate_limited

DID = "did:plc:abcdefghijklmnopqrstuvwx"
OTHER = "did:plc:zyxwvutsrqponmlkjihgfedc"
LAUNCH = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class NoPds:
    async def create_record(
        self, account: SocialAccount, *, collection: str, rkey: str, record: dict[str, Any]
    ) -> CreatedRecord:
        raise AssertionError("reading never writes")


class NoGrants:
    async def refresh(self, account: SocialAccount) -> TokenSet:
        raise AssertionError("the AppView needs no token")

    async def revoke(self, account: SocialAccount) -> None:
        raise AssertionError("the AppView needs no token")


@pytest.fixture
async def appview() -> AsyncIterator[FakeAppView]:
    async with FakeAppView() as fake:
        fake.add_actor(DID, "pat.example", followers=42)
        fake.add_actor(OTHER, "sam.example")
        yield fake  # type: ignore[misc]


def _network(url: str, clock: FakeClock | None = None, **kwargs: Any) -> BlueskyNetwork:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, public_url="https://chorus.example", bluesky_appview_url=url
    )
    return BlueskyNetwork(
        settings, pds=NoPds(), grants=NoGrants(), clock=clock or FakeClock(LAUNCH), **kwargs
    )


@pytest.fixture
async def network(appview: FakeAppView) -> AsyncIterator[BlueskyNetwork]:
    adapter = _network(appview.url)
    yield adapter
    await adapter.aclose()


def _account(did: str = DID) -> SocialAccount:
    return SocialAccount(
        owner=UserRef("test", "7", "Pat"),
        network=BLUESKY,
        instance="pds.example",
        remote_id=did,
        handle="pat.example",
        followers=0,
        tokens=TokenSet(""),  # read-back works with the tokens erased
        linked_at=LAUNCH,
    )


async def test_recent_posts_are_the_accounts_own_since_the_launch(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    appview.add_post(DID, "before #Climat", LAUNCH - timedelta(minutes=1), rkey="3kaaaaaaaaa22")
    appview.add_post(DID, "after #Climat", LAUNCH + timedelta(minutes=3), rkey="3kaaaaaaaab22")
    appview.add_post(OTHER, "theirs #Climat", LAUNCH + timedelta(minutes=1), rkey="3kaaaaaaaac22")
    appview.add_post(
        DID, "theirs #Climat", LAUNCH + timedelta(minutes=2), rkey="3kaaaaaaaac22", repost_of=OTHER
    )
    posts = await network.recent_posts(_account(), since=LAUNCH)
    assert [(p.text, p.created_at) for p in posts] == [
        ("after #Climat", LAUNCH + timedelta(minutes=3))
    ]
    post = posts[0]
    assert post.remote_id == f"at://{DID}/app.bsky.feed.post/3kaaaaaaaab22"
    assert post.url == f"https://bsky.app/profile/{DID}/post/3kaaaaaaaab22"
    (request,) = appview.seen("GET", "/xrpc/app.bsky.feed.getAuthorFeed")
    assert request.query["actor"] == DID
    assert "Authorization" not in request.headers


async def test_the_feed_is_paged_back_to_the_launch_and_no_further(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    for n in range(FEED_PAGE + 30):  # one page and a bit since the launch, then older ones
        appview.add_post(DID, f"post {n}", LAUNCH + timedelta(seconds=n + 1), rkey=f"3k{n:011d}")
    for n in range(3 * FEED_PAGE):
        appview.add_post(DID, f"old {n}", LAUNCH - timedelta(hours=n + 1), rkey=f"3j{n:011d}")
    posts = await network.recent_posts(_account(), since=LAUNCH)
    assert len(posts) == FEED_PAGE + 30
    assert len(appview.seen("GET", "/xrpc/app.bsky.feed.getAuthorFeed")) == 2


async def test_paging_is_bounded_even_when_every_post_is_recent(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    for n in range(FEED_PAGE * (FEED_PAGES + 2)):
        appview.add_post(DID, f"post {n}", LAUNCH + timedelta(seconds=n), rkey=f"3k{n:011d}")
    posts = await network.recent_posts(_account(), since=LAUNCH)
    assert len(posts) == FEED_PAGE * FEED_PAGES
    assert len(appview.seen("GET", "/xrpc/app.bsky.feed.getAuthorFeed")) == FEED_PAGES


async def test_a_post_from_the_compose_screen_with_a_shortened_link_is_recognised(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    campaign = "Ça suffit ! https://chorus.example/c/AB12CD/en/long-path-here"  # no hashtag
    shown = "Ça suffit ! chorus.example/c/AB12CD/en/lo..."
    start = shown.encode().index(b"chorus.example")
    link = {
        "index": {"byteStart": start, "byteEnd": len(shown.encode())},
        "features": [
            {
                "$type": "app.bsky.richtext.facet#link",
                "uri": "https://chorus.example/c/AB12CD/en/long-path-here",
            }
        ],
    }
    appview.add_post(
        DID, shown, LAUNCH + timedelta(minutes=1), rkey="3kaaaaaaaad22", facets=[link]
    )
    posts = await network.recent_posts(_account(), since=LAUNCH)
    assert posts[0].text == campaign
    assert find_campaign_post(posts, campaign) == posts[0]  # matched by its link
    assert find_campaign_post([replace(posts[0], text=shown)], campaign) is None


async def test_a_backdated_post_counts_from_when_the_appview_saw_it(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    appview.add_post(
        DID,
        "#Climat",
        LAUNCH + timedelta(hours=1),
        rkey="3kaaaaaaaae22",
        indexed_at=LAUNCH - timedelta(days=1),  # seen a day before the launch
    )
    assert await network.recent_posts(_account(), since=LAUNCH) == []


async def test_followers_come_from_the_public_profile_clamped(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    assert await network.followers(DID) == 42
    for reported, expected in ((10**15, FOLLOWERS_MAX), (-5, 0), ("lots", 0), (None, 0)):
        appview.actors[DID].followers = reported
        assert await network.followers(DID) == expected


async def test_a_429_is_a_delayed_outcome_measured_on_our_clock(appview: FakeAppView) -> None:
    clock = FakeClock(LAUNCH)
    adapter = _network(appview.url, clock)
    try:
        appview.fail(429, headers=rate_limited(120))
        with pytest.raises(NetworkFailure) as exc:
            await adapter.recent_posts(_account(), since=LAUNCH)
        outcome = exc.value.outcome
        assert outcome.kind is OutcomeKind.RATE_LIMITED
        assert outcome.retry_at is not None
        assert (
            LAUNCH + timedelta(seconds=100) <= outcome.retry_at <= LAUNCH + timedelta(seconds=121)
        )
        appview.fail(429)  # no reset header: the default wait, never none
        with pytest.raises(NetworkFailure) as exc:
            await adapter.followers(DID)
        assert exc.value.outcome.retry_at is not None and exc.value.outcome.retry_at > LAUNCH
    finally:
        await adapter.aclose()


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (502, None, OutcomeKind.NETWORK_DOWN),
        (400, {"error": "AccountTakedown", "message": "taken down"}, OutcomeKind.REVOKED),
        (400, {"error": "InvalidRequest", "message": "Profile not found"}, OutcomeKind.REJECTED),
    ],
)
async def test_refusals_are_typed(
    appview: FakeAppView,
    network: BlueskyNetwork,
    status: int,
    body: dict[str, str] | None,
    kind: OutcomeKind,
) -> None:
    appview.fail(status, body=body)
    with pytest.raises(NetworkFailure) as exc:
        await network.recent_posts(_account(), since=LAUNCH)
    assert exc.value.outcome.kind is kind


async def test_an_unknown_actor_is_refused(network: BlueskyNetwork) -> None:
    with pytest.raises(NetworkFailure) as exc:
        await network.followers("did:plc:222222222222222222222222")
    assert exc.value.outcome.kind is OutcomeKind.REJECTED


@pytest.mark.parametrize(
    "did",
    ["pat.example", "did:plc:short", "did:plc:abcdefghijklmnopqrstuvwx&actor=x", "", "did:web:"],
)
async def test_only_a_did_goes_in_a_query(
    appview: FakeAppView, network: BlueskyNetwork, did: str
) -> None:
    with pytest.raises(NetworkFailure) as exc:
        await network.recent_posts(_account(did), since=LAUNCH)
    assert exc.value.outcome.kind is OutcomeKind.REJECTED
    assert appview.requests == []


async def test_an_oversized_answer_is_given_up_on(appview: FakeAppView) -> None:
    for n in range(50):
        appview.add_post(DID, "x" * 200, LAUNCH + timedelta(seconds=n), rkey=f"3k{n:011d}")
    adapter = _network(appview.url, max_body=4096)
    try:
        with pytest.raises(NetworkFailure) as exc:
            await adapter.recent_posts(_account(), since=LAUNCH)
        assert exc.value.outcome.kind is OutcomeKind.NETWORK_DOWN
        assert exc.value.outcome.reason == "answer too large"
    finally:
        await adapter.aclose()


async def test_a_public_appview_name_resolving_to_a_private_address_is_refused(
    appview: FakeAppView,
) -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    adapter = _network(f"http://appview.example:{appview.port}", lookup=rebinding)
    try:
        with pytest.raises(NetworkFailure) as exc:
            await adapter.followers(DID)
        assert exc.value.outcome.kind is OutcomeKind.REJECTED
    finally:
        await adapter.aclose()
    assert appview.requests == []


async def test_garbage_entries_in_the_feed_are_skipped(
    appview: FakeAppView, network: BlueskyNetwork
) -> None:
    good = appview.add_post(DID, "#Climat", LAUNCH + timedelta(minutes=1), rkey="3kaaaaaaaaf22")
    feed = appview.actors[DID].feed
    for junk in (
        "text",
        {"post": "no"},
        {"post": {**good["post"], "uri": f"at://{OTHER}/app.bsky.feed.post/3kx"}},
        {"post": {**good["post"], "record": {"text": 5}}},
        {"post": {**good["post"], "indexedAt": "yesterday", "record": {"text": "#Climat"}}},
    ):
        feed.insert(0, (junk, LAUNCH + timedelta(hours=1)))  # type: ignore[arg-type]
    posts = await network.recent_posts(_account(), since=LAUNCH)
    assert [p.remote_id for p in posts] == [good["post"]["uri"]]
