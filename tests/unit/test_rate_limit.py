"""The pledge site's rate-limit arithmetic and how a client's address is read."""

from __future__ import annotations

import pytest

from bot.web.rate_limit import UNKNOWN_CLIENT, TokenBuckets, client_address, link_key


def test_a_bucket_allows_a_burst_then_one_request_per_share_of_the_period() -> None:
    buckets = TokenBuckets(limit=3, period=60, max_keys=10)
    for _ in range(3):
        assert buckets.wait("a", now=0) == 0
        buckets.take("a", now=0)
    assert buckets.wait("a", now=0) == pytest.approx(20)
    assert buckets.wait("a", now=15) == pytest.approx(5)
    assert buckets.wait("b", now=0) == 0  # another key is not held up
    assert buckets.wait("a", now=20) == 0
    buckets.take("a", now=20)
    assert buckets.wait("a", now=20) == pytest.approx(20)


def test_keys_refilled_to_full_are_forgotten_and_the_cap_holds() -> None:
    buckets = TokenBuckets(limit=2, period=60, max_keys=3)
    for n in range(10):
        buckets.take(f"k{n}", now=n)
    assert len(buckets) == 3
    buckets.take("late", now=1000)  # everyone else has long refilled
    assert len(buckets) == 1


def test_a_clock_going_back_does_not_grant_more() -> None:
    buckets = TokenBuckets(limit=1, period=60, max_keys=10)
    buckets.take("a", now=100)
    assert buckets.wait("a", now=50) == pytest.approx(60)


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.5", [], False, "192.0.2.5"),
        ("192.0.2.5", ["198.51.100.1"], False, "192.0.2.5"),  # anyone can send the header
        ("127.0.0.1", ["10.0.0.1, 198.51.100.1"], True, "198.51.100.1"),
        ("127.0.0.1", ["10.0.0.1", "198.51.100.2"], True, "198.51.100.2"),
        ("127.0.0.1", [], True, "127.0.0.1"),  # the proxy added none
        ("2001:db8:1:2:3:4:5:6", [], False, "2001:db8:1:2::/64"),
        ("127.0.0.1", ["[2001:db8::9]"], True, "2001:db8::/64"),
        (None, [], False, UNKNOWN_CLIENT),
        ("127.0.0.1", ["not-an-address"], True, UNKNOWN_CLIENT),
    ],
)
def test_client_address(
    remote: str | None, forwarded: list[str], trusted: bool, expected: str
) -> None:
    assert client_address(remote, forwarded, trust_proxy=trusted) == expected


def test_link_keys_are_short_and_distinct() -> None:
    long_token = "t" * 5000
    assert len(link_key(long_token)) == 32
    assert link_key(long_token) != link_key(long_token + "u")
