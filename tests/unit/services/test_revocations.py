"""Token lifetime through the core: a cancelled campaign releases its supporters' tokens,
those another campaign needs stay, and what failed waits for the next retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus
from bot.testing.clock import FakeClock
from tests.unit.services.conftest import (
    ORGANISER,
    RecordingNetwork,
    pledge,
    profile,
    supporter,
)
from tests.unit.services.test_pledges import Make


async def test_a_cancelled_campaign_releases_the_tokens_no_other_campaign_needs(
    core: Chorus, live: Make, mastodon: RecordingNetwork, clock: FakeClock
) -> None:
    cancelled, other = await live(), await live(title="Save the wasps")
    await pledge(core, cancelled, supporter(1), profile(1))
    await pledge(core, cancelled, supporter(2), profile(2))
    await pledge(core, other, supporter(2), profile(2))  # still needed there

    await core.campaigns.cancel(cancelled.ref, ORGANISER)

    [first, second] = [(await core.repo.accounts_of(supporter(n)))[0] for n in (1, 2)]
    assert first.tokens.access_token == ""  # erased at once
    assert second.tokens.access_token == "test-token-not-real-2"
    assert mastodon.revoked == []  # the network call is the maintenance job's
    mastodon.fail_revoke = True
    assert await core.revocations.retry_pending() == 0
    assert await core.revocations.retry_pending() == 0  # not due again yet
    mastodon.fail_revoke = False
    clock.advance(timedelta(minutes=15))
    assert await core.revocations.retry_pending() == 1
    assert mastodon.revoked == ["test-token-not-real-1"] * 2


async def test_forget_reports_a_network_without_any_revoker(
    make_core: Callable[..., Chorus], live: Make, mastodon: RecordingNetwork
) -> None:
    core = make_core(revokers={MASTODON: mastodon})  # X pledges, no X revoker
    campaign = await live()
    await pledge(core, campaign, supporter(1), profile(11, X))

    forgotten = await core.pledges.forget(supporter(1))

    assert [(u.network, u.account) for u in forgotten.unrevoked] == [(X, "@handle11")]
    assert await core.repo.accounts_of(supporter(1)) == []
