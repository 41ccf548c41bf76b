"""The sandbox network keeps its promises: posts once per key, reads back, revokes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.networks.sandbox import SANDBOX, SandboxNetwork, SandboxPost
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.outcomes import OutcomeKind
from bot.domain.refs import UserRef
from bot.ports import NetworkFailure
from bot.testing.clock import FakeClock


def account(name: str = "alice") -> SocialAccount:
    return SocialAccount(
        owner=UserRef("console", name, name),
        network=SANDBOX,
        instance="sandbox",
        remote_id=name,
        handle=name,
        followers=42,
        tokens=TokenSet("sandbox-token"),
        linked_at=FakeClock().now(),
        id=1,
    )


async def test_posts_are_recorded_announced_and_read_back() -> None:
    clock = FakeClock()
    heard: list[SandboxPost] = []
    sandbox = SandboxNetwork(clock, on_post=heard.append)
    since = clock.now()
    outcome = await sandbox.post(account(), "Join #park", "chorus-1")
    assert outcome.kind is OutcomeKind.POSTED and outcome.remote_id == "1"
    assert outcome.url == "sandbox://alice/1"
    assert [(p.handle, p.text) for p in heard] == [("alice", "Join #park")]
    recent = await sandbox.recent_posts(account(), since)
    assert [(p.remote_id, p.text) for p in recent] == [("1", "Join #park")]
    assert await sandbox.recent_posts(account(), since + timedelta(seconds=1)) == []


async def test_the_same_idempotency_key_never_posts_twice() -> None:
    sandbox = SandboxNetwork(FakeClock())
    first = await sandbox.post(account(), "Join #park", "chorus-7")
    again = await sandbox.post(account(), "Join #park", "chorus-7")
    assert first == again
    assert len(sandbox.posts_of("alice")) == 1
    other = await sandbox.post(account(), "Join #park", "chorus-8")
    assert other.remote_id != first.remote_id


async def test_empty_and_too_long_posts_are_rejected() -> None:
    sandbox = SandboxNetwork(FakeClock())
    assert (await sandbox.post(account(), "  ", "k1")).kind is OutcomeKind.REJECTED
    assert (await sandbox.post(account(), "x" * 501, "k2")).kind is OutcomeKind.REJECTED
    assert sandbox.all_posts == []


async def test_revoked_accounts_cannot_post_until_linked_again() -> None:
    sandbox = SandboxNetwork(FakeClock())
    await sandbox.revoke(account())
    assert (await sandbox.post(account(), "Join #park", "k1")).kind is OutcomeKind.REVOKED
    with pytest.raises(NetworkFailure) as failure:
        await sandbox.refresh(account())
    assert failure.value.outcome.kind is OutcomeKind.REVOKED
    tokens = sandbox.link("alice")
    assert await sandbox.refresh(account()) == tokens
    assert (await sandbox.post(account(), "Join #park", "k1")).ok


def test_compose_url_carries_the_whole_text() -> None:
    sandbox = SandboxNetwork(FakeClock())
    url = sandbox.compose_url(account(), "Join #park & https://example.org/?a=1")
    assert (
        url == "sandbox://compose?text=Join%20%23park%20%26%20https%3A%2F%2Fexample.org%2F%3Fa%3D1"
    )
