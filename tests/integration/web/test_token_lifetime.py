"""Tokens live only as long as a pledge needs them, checked at the wire: pledges made
through the real pledge site and OAuth round trips, revocations seen by the X and
Mastodon fakes (which record every revoke call)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from adapters.networks.mastodon import MASTODON, MastodonNetwork
from adapters.networks.x import X, XNetwork
from bot.app import build_chorus
from bot.domain.account import PendingRevocation, SocialAccount
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import Network
from tests.fakes.networks import registry_of
from tests.fakes.pledge_site import SUPPORTER, TEST_SECRET, PledgeSite
from tests.integration.web.test_pledge_flow import pledge

Browser = aiohttp.ClientSession


async def pledged(site: PledgeSite, browser: Browser, campaign: Campaign, network: str) -> None:
    fields = {"instance": site.mastodon.host} if network == "mastodon" else {}
    status, html, _ = await pledge(browser, site.link(campaign), network, **fields)
    assert status == 200, html


async def account_on(site: PledgeSite, network: Network) -> SocialAccount:
    [account] = [a for a in await site.repo.accounts_of(SUPPORTER) if a.network == network]
    return account


async def queued_revocations(site: PledgeSite) -> list[PendingRevocation]:
    return await site.repo.due_revocations(site.clock.now() + timedelta(days=1), 100)


def erased(account: SocialAccount) -> bool:
    return (account.tokens.access_token, account.tokens.refresh_token) == ("", None)


async def test_unpledge_revokes_and_erases_only_what_no_other_campaign_needs(
    site: PledgeSite, browser: Browser
) -> None:
    first, second = await site.campaign(), await site.campaign(title="Save the lake")
    await pledged(site, browser, first, "x")
    await pledged(site, browser, first, "mastodon")
    await pledged(site, browser, second, "mastodon")  # the same Mastodon account
    x_tokens = (await account_on(site, X)).tokens
    mastodon_token = (await account_on(site, MASTODON)).tokens.access_token

    assert await site.core.pledges.unpledge(first.ref, SUPPORTER) == 2

    # X was only needed for the first campaign: revoked at X, erased here
    assert site.x.revoked == [x_tokens.access_token, x_tokens.refresh_token]
    assert erased(await account_on(site, X))
    # the Mastodon account still pledges to the second one: kept, not revoked
    assert site.mastodon.revoked == []
    assert (await account_on(site, MASTODON)).tokens.access_token == mastodon_token
    assert await queued_revocations(site) == []

    assert await site.core.pledges.unpledge(second.ref, SUPPORTER) == 1
    assert site.mastodon.revoked == [mastodon_token]
    assert erased(await account_on(site, MASTODON))
    assert site.mastodon.tokens.get(mastodon_token) is None  # dead at the network too


async def test_the_final_report_erases_the_tokens_a_tap_read_back_needed_until_then(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(goal=0)
    other = await site.campaign(title="Save the lake")
    await pledged(site, browser, campaign, "x")  # tap: read back until the report
    await pledged(site, browser, campaign, "mastodon")  # auto: posted at the launch
    await pledged(site, browser, other, "mastodon")
    blast = site.core.blast
    site.clock.set(campaign.launch_at)

    launched = await blast.launch(campaign)

    assert launched.status is CampaignStatus.LAUNCHED
    assert sum(site.mastodon.posts.values()) == 1
    assert not erased(await account_on(site, X))  # the read-back needs them
    assert site.x.revoked == []

    site.clock.advance(timedelta(minutes=site.core.settings.tap_readback_minutes))
    await blast.report(launched)
    assert erased(await account_on(site, X))  # at once; revoked in the background
    assert site.x.revoked == []
    assert await site.core.revocations.retry_pending() == 1

    # the read-back refreshed them on the way: whatever they were, none is alive at X
    assert len(site.x.revoked) == 2
    alice = (await account_on(site, X)).remote_id
    assert alice not in {*site.x.access_tokens.values(), *site.x.refresh_tokens.values()}
    assert erased(await account_on(site, X))
    # the Mastodon account is pledged to the other campaign still
    assert site.mastodon.revoked == []
    assert not erased(await account_on(site, MASTODON))


async def test_forget_revokes_on_x_even_when_x_is_not_offered_for_pledges(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    await pledged(site, browser, campaign, "x")
    x_tokens = (await account_on(site, X)).tokens
    # a deployment that no longer offers X for new pledges, X client still configured
    mastodon = MastodonNetwork(site.core.settings, site.repo, clock=site.clock)
    x_revoker = XNetwork(site.core.settings, site.repo, clock=site.clock)
    revokers = {MASTODON: mastodon, X: x_revoker}
    core = build_chorus(
        site.core.settings,
        site.repo,
        site.clock,
        secret=TEST_SECRET,
        registry=registry_of(site.core.settings, {MASTODON: mastodon}, revokers=revokers),
    )
    try:
        forgotten = await core.pledges.forget(SUPPORTER)
    finally:
        for adapter in revokers.values():
            await adapter.aclose()  # type: ignore[attr-defined]

    assert (forgotten.accounts, forgotten.unrevoked) == (1, ())
    assert site.x.revoked == [x_tokens.access_token, x_tokens.refresh_token]
    assert await site.repo.accounts_of(SUPPORTER) == []


async def test_forget_without_any_way_to_revoke_on_x_queues_and_says_where_to_revoke(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    await pledged(site, browser, campaign, "x")
    core = build_chorus(
        site.core.settings,
        site.repo,
        site.clock,
        secret=TEST_SECRET,
        registry=registry_of(site.core.settings, {}),
    )

    forgotten = await core.pledges.forget(SUPPORTER)

    [pending] = forgotten.unrevoked
    assert (pending.network, pending.account) == (X, "@alice")
    assert pending.revoke_at == "https://x.com/settings/connected_apps"
    assert site.x.revoked == []
    [queued] = await queued_revocations(site)
    assert queued.network == X and queued.last_error == "no adapter configured"
    # once the X adapter is there again, the retry goes through
    site.clock.advance(timedelta(minutes=15))
    assert await site.core.revocations.retry_pending() == 1
    assert site.x.revoked == [queued.tokens.access_token, queued.tokens.refresh_token]
    assert await queued_revocations(site) == []


async def test_a_revocation_refused_with_a_5xx_is_queued_reported_retried_and_cleared(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    await pledged(site, browser, campaign, "x")
    await pledged(site, browser, campaign, "mastodon")
    mastodon_token = (await account_on(site, MASTODON)).tokens.access_token
    site.mastodon.fail(503, method="POST", path="/oauth/revoke")

    forgotten = await site.core.pledges.forget(SUPPORTER)

    # X went through; Mastodon did not, and the person is told where to do it by hand
    assert len(site.x.revoked) == 2 and site.mastodon.revoked == []
    [pending] = forgotten.unrevoked
    assert pending.account == f"@bob@{site.mastodon.host}"
    assert pending.revoke_at == f"https://{site.mastodon.host}/oauth/authorized_applications"
    assert await site.repo.accounts_of(SUPPORTER) == []  # erased all the same
    [queued] = await queued_revocations(site)
    assert queued.attempts == 1 and queued.tokens.access_token == mastodon_token

    assert await site.core.revocations.retry_pending() == 0  # not due yet
    site.clock.advance(timedelta(minutes=15))
    assert await site.core.revocations.retry_pending() == 1
    assert site.mastodon.revoked == [mastodon_token]
    assert await queued_revocations(site) == []


async def test_a_missed_goal_releases_the_tokens_and_the_maintenance_job_revokes_them(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign(goal=10)
    await pledged(site, browser, campaign, "mastodon")
    token = (await account_on(site, MASTODON)).tokens.access_token
    site.clock.set(campaign.launch_at)

    failed = await site.core.blast.launch(campaign)

    assert failed.status is CampaignStatus.FAILED
    assert erased(await account_on(site, MASTODON))  # at once
    assert site.mastodon.revoked == []  # the network call is left to maintenance
    [job] = [j for j in site.core.maintenance.jobs if j.name == "revoke released tokens"]
    assert await job.run() == 1
    assert site.mastodon.revoked == [token]
    assert await queued_revocations(site) == []
