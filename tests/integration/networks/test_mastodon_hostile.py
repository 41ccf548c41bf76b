"""A hostile instance at every step: dripped answers, floods, rebinding DNS, too many new ones.

Every request Chorus sends to an instance has a total deadline and a size cap: the fake
drips a real answer a byte at a time (slower in total than the deadline, never slow between
two bytes) or pads a real, valid answer past the cap. A client with only a per-read timeout
or no cap would accept both. The DNS lookup is played by the test: it answers the fake's
address first and a private one afterwards, as a rebinding attacker would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.networks.mastodon import MastodonNetwork
from bot.domain.account import SocialAccount
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.outcomes import OutcomeKind
from bot.ports import NetworkFailure, Repository
from bot.testing.clock import FakeClock
from tests.fakes.mastodon_api import FakeMastodon
from tests.integration.networks.conftest import settings_for

REDIRECT = "http://127.0.0.1:9/oauth/mastodon/callback"
DEADLINE = 1.0  # seconds: room for the request to reach the fake on a loaded machine
DRIP_EVERY = 0.03  # a byte every 30 ms: every answer below takes well over DEADLINE in total
CAP = 16 * 1024

Step = Callable[[MastodonNetwork, FakeMastodon, SocialAccount], Awaitable[object]]


@pytest.fixture
async def guarded(repo: Repository, clock: FakeClock) -> AsyncIterator[MastodonNetwork]:
    network = MastodonNetwork(settings_for(), repo, clock=clock, deadline=DEADLINE, max_body=CAP)
    yield network
    await network.aclose()


async def code_for(url: str) -> str:
    """What the supporter's browser does: approve, and read the code from the redirect."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(url, allow_redirects=False) as response,
    ):
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


async def instance_check(network: MastodonNetwork, fake: FakeMastodon, _: SocialAccount) -> object:
    return await network.check_instance(fake.host)


async def registration(network: MastodonNetwork, fake: FakeMastodon, _: SocialAccount) -> object:
    return await network.authorization_url(state="s", redirect_uri=REDIRECT, instance=fake.host)


async def linking(network: MastodonNetwork, fake: FakeMastodon, _: SocialAccount) -> object:
    """The whole round trip: token exchange, then the profile."""
    url, data = await network.authorization_url(
        state="s", redirect_uri=REDIRECT, instance=fake.host
    )
    code = await code_for(url)
    return await network.complete(code=code, redirect_uri=REDIRECT, data=data)


async def read_back(network: MastodonNetwork, _: FakeMastodon, account: SocialAccount) -> object:
    assert (await network.post(account, "Hello", "k0")).ok  # a timeline worth dripping
    return await network.recent_posts(account, account.linked_at)


async def posting(network: MastodonNetwork, _: FakeMastodon, account: SocialAccount) -> object:
    return await network.post(account, "Hello", "pledge-1-launch")


# (step, path the fake spoils) for every kind of request Chorus sends to an instance
STEPS = [
    pytest.param(instance_check, "/api/v2/instance", id="instance-check"),
    pytest.param(registration, "/api/v1/apps", id="app-registration"),
    pytest.param(linking, "/oauth/token", id="token-exchange"),
    pytest.param(linking, "/api/v1/accounts/verify_credentials", id="profile"),
    pytest.param(read_back, "/api/v1/accounts/", id="statuses"),
    pytest.param(posting, "/api/v1/statuses", id="posting"),
]


async def outcome_of(
    step: Step, network: MastodonNetwork, fake: FakeMastodon, account: SocialAccount
) -> str:
    """What the step ended with, as one word and a reason."""
    try:
        result = await step(network, fake, account)
    except NetworkFailure as failure:
        return f"{failure.outcome.kind.value}: {failure.outcome.reason}"
    except DomainError as error:
        return f"refused: {error.key}"
    reason = getattr(result, "reason", "")
    kind = getattr(result, "kind", None)
    return f"{kind.value}: {reason}" if kind is not None else "done"


EXPECTED = {
    "deadline": {
        "/api/v2/instance": "refused: web.mastodon.misbehaved",
        "/api/v1/apps": "refused: web.mastodon.misbehaved",
        "/oauth/token": "network_down: deadline passed",
        "/api/v1/accounts/verify_credentials": "network_down: deadline passed",
        "/api/v1/accounts/": "network_down: deadline passed",
        "/api/v1/statuses": "network_down: deadline passed",
    },
    "cap": {
        "/api/v2/instance": "refused: web.mastodon.misbehaved",
        "/api/v1/apps": "refused: web.mastodon.misbehaved",
        "/oauth/token": "network_down: answer too large",
        "/api/v1/accounts/verify_credentials": "network_down: answer too large",
        "/api/v1/accounts/": "network_down: answer too large",
        "/api/v1/statuses": "network_down: answer too large",
    },
}


@pytest.mark.parametrize("guard", ["deadline", "cap"])
@pytest.mark.parametrize(("step", "path"), STEPS)
async def test_a_dripped_or_oversized_answer_is_given_up_on(
    guarded: MastodonNetwork,
    fake_mastodon: FakeMastodon,
    account: SocialAccount,
    step: Step,
    path: str,
    guard: str,
) -> None:
    if guard == "deadline":
        fake_mastodon.drip(path, every=DRIP_EVERY)  # never idle for DEADLINE
    else:
        fake_mastodon.flood(path, size=4 * CAP)  # valid JSON, padded with whitespace

    outcome = await outcome_of(step, guarded, fake_mastodon, account)

    assert outcome == EXPECTED[guard][path]
    assert any(r.path.startswith(path) for r in fake_mastodon.requests)  # it was asked


async def test_a_declared_length_over_the_cap_is_refused_unread(
    guarded: MastodonNetwork, fake_mastodon: FakeMastodon, account: SocialAccount
) -> None:
    fake_mastodon.fail(200, path="/api/v1/statuses", body={"id": "1", "pad": "x" * 2 * CAP})

    outcome = await guarded.post(account, "Hello", "key")

    assert (outcome.kind, outcome.reason) == (OutcomeKind.NETWORK_DOWN, "answer too large")


async def test_nothing_is_registered_when_the_registration_answer_is_spoilt(
    guarded: MastodonNetwork, fake_mastodon: FakeMastodon, repo: Repository
) -> None:
    fake_mastodon.drip("/api/v1/apps", every=DRIP_EVERY)

    assert await start_pledge(guarded, fake_mastodon) == "web.mastodon.misbehaved"
    assert await repo.get_mastodon_app(fake_mastodon.host) is None


async def test_the_same_instance_answering_well_again_is_used(
    guarded: MastodonNetwork, fake_mastodon: FakeMastodon, account: SocialAccount
) -> None:
    fake_mastodon.drip("/api/v1/statuses", every=DRIP_EVERY)
    assert not (await guarded.post(account, "Hello", "k1")).ok

    again = await guarded.post(account, "Hello", "k1")

    assert again.ok
    assert fake_mastodon.posts[account.remote_id] == 1  # the same key: one status


# ---- address pinning ------------------------------------------------------------------


class RebindingDns:
    """A DNS server under an attacker's control: a good first answer, then a private one."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        self.first, self.later = first, later
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.first if len(self.asked) == 1 else self.later


def fake_is_the_internet(address: str) -> bool:
    """The test's address rule: the fake's loopback address plays the public internet."""
    return address == "127.0.0.1"


async def test_a_name_is_looked_up_once_and_only_the_checked_address_is_used(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock, account: SocialAccount
) -> None:
    dns = RebindingDns(["127.0.0.1"], ["10.0.0.7"])
    network = MastodonNetwork(
        settings_for(), repo, clock=clock, lookup=dns, address_rule=fake_is_the_internet
    )
    instance = f"rebind.example:{fake_mastodon.port}"
    try:
        url, data = await network.authorization_url(
            state="s", redirect_uri=REDIRECT, instance=instance
        )
        code = await code_for(url.replace(f"http://{instance}", fake_mastodon.url))
        profile = await network.complete(code=code, redirect_uri=REDIRECT, data=data)
        linked = replace(
            account, instance=instance, remote_id=profile.remote_id, tokens=profile.tokens
        )
        await network.recent_posts(linked, clock.now())
    finally:
        await network.aclose()

    assert dns.asked == ["rebind.example"]  # once, for the check and every connection after
    sent = [r for r in fake_mastodon.requests if r.path != "/oauth/authorize"]
    assert [r.path for r in sent] == [
        "/api/v2/instance",
        "/api/v1/apps",
        "/oauth/token",
        "/api/v1/accounts/verify_credentials",
        f"/api/v1/accounts/{profile.remote_id}/statuses",
    ]
    assert {r.headers["Host"] for r in sent} == {instance}  # the name, not the address


async def test_a_later_private_answer_is_refused_not_connected_to(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock, account: SocialAccount
) -> None:
    dns = RebindingDns(["127.0.0.1"], ["127.0.0.1", "10.0.0.7"])
    network = MastodonNetwork(
        settings_for(), repo, clock=clock, lookup=dns, address_rule=fake_is_the_internet
    )
    named = replace(account, instance=f"rebind.example:{fake_mastodon.port}")
    try:
        await network.check_instance(named.instance)  # the linking session: first answer
        outcome = await network.post(named, "Hello", "key")  # the blast's own session
    finally:
        await network.aclose()

    assert dns.asked == ["rebind.example", "rebind.example"]
    assert (outcome.kind, outcome.reason) == (
        OutcomeKind.REJECTED,
        "instance address is not public",
    )
    assert fake_mastodon.seen("POST", "/api/v1/statuses") == []


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        (["127.0.0.1", "169.254.169.254"], "web.mastodon.instance_private"),
        ([], "web.mastodon.instance_unknown"),
    ],
)
async def test_a_private_answer_among_others_or_no_answer_refuses_the_host(
    repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock, answers: list[str], key: str
) -> None:
    dns = RebindingDns(answers, [])
    network = MastodonNetwork(
        settings_for(), repo, clock=clock, lookup=dns, address_rule=fake_is_the_internet
    )
    try:
        with pytest.raises(InvalidInput) as caught:
            await network.authorization_url(
                state="s", redirect_uri=REDIRECT, instance=f"mixed.example:{fake_mastodon.port}"
            )
    finally:
        await network.aclose()

    assert caught.value.key == key
    assert fake_mastodon.requests == []


# ---- the hourly cap on new registrations ------------------------------------------------


PER_HOUR = 2


@pytest.fixture
async def capped(repo: Repository, clock: FakeClock) -> AsyncIterator[MastodonNetwork]:
    settings = settings_for(mastodon_registrations_per_hour=PER_HOUR)
    network = MastodonNetwork(settings, repo, clock=clock)
    yield network
    await network.aclose()


async def register_elsewhere(
    repo: Repository, clock: FakeClock, count: int, ago: timedelta
) -> None:
    for n in range(count):
        await repo.save_mastodon_app(
            f"other{n}.example", f"c{n}", "secret-not-real", registered_at=clock.now() - ago
        )


async def start_pledge(network: MastodonNetwork, fake: FakeMastodon) -> str:
    """A supporter names ``fake``: "sent to approve", or the key of the refusal."""
    try:
        await network.authorization_url(state="s", redirect_uri=REDIRECT, instance=fake.host)
    except DomainError as error:
        return error.key
    return "sent to approve"


async def test_new_instances_past_the_hourly_cap_are_refused_unasked(
    capped: MastodonNetwork, repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    await register_elsewhere(repo, clock, PER_HOUR, timedelta(minutes=59))

    assert await start_pledge(capped, fake_mastodon) == "web.mastodon.registrations_full"
    assert await repo.get_mastodon_app(fake_mastodon.host) is None
    assert fake_mastodon.requests == []  # the instance was not even contacted


async def test_registrations_older_than_an_hour_do_not_count(
    capped: MastodonNetwork, repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    await register_elsewhere(repo, clock, PER_HOUR, timedelta(minutes=61))

    assert await start_pledge(capped, fake_mastodon) == "sent to approve"
    assert await repo.count_mastodon_registrations(clock.now() - timedelta(hours=1)) == 1


async def test_a_known_instance_links_even_when_the_cap_is_reached(
    capped: MastodonNetwork, repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    await register_elsewhere(repo, clock, PER_HOUR - 1, timedelta(minutes=1))

    assert await start_pledge(capped, fake_mastodon) == "sent to approve"  # the last one
    assert await start_pledge(capped, fake_mastodon) == "sent to approve"  # known now
    assert len(fake_mastodon.seen("POST", "/api/v1/apps")) == 1


async def test_forms_sent_at_the_same_moment_cannot_pass_the_cap_together(
    capped: MastodonNetwork, repo: Repository, fake_mastodon: FakeMastodon, clock: FakeClock
) -> None:
    await register_elsewhere(repo, clock, PER_HOUR - 1, timedelta(minutes=1))
    async with FakeMastodon(now=clock.now) as second:
        results = await asyncio.gather(
            start_pledge(capped, fake_mastodon), start_pledge(capped, second)
        )

    assert sorted(results) == ["sent to approve", "web.mastodon.registrations_full"]
    assert await repo.count_mastodon_registrations(clock.now() - timedelta(hours=1)) == PER_HOUR
