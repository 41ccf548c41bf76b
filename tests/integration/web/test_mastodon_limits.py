"""The pledge form when Chorus will not register on one more new instance this hour."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from tests.fakes.pledge_site import PledgeSite
from tests.integration.web.test_pledge_flow import submit


async def fill_the_hour(site: PledgeSite) -> None:
    for n in range(site.core.settings.mastodon_registrations_per_hour):
        await site.repo.save_mastodon_app(
            f"instance{n}.example",
            f"client-{n}",
            "secret-not-real",
            registered_at=site.clock.now() - timedelta(minutes=30),
        )


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en-GB,en;q=0.9", "is pausing before adding more"),
        ("fr-FR,fr;q=0.9", "fait une pause avant d"),
    ],
)
async def test_a_new_instance_past_the_hourly_cap_is_refused_on_the_form(
    site: PledgeSite, language: str, shown: str
) -> None:
    campaign = await site.campaign()
    await fill_the_hour(site)

    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept-Language": language}
    ) as browser:
        status, html, _ = await submit(
            browser, site.link(campaign), "mastodon", instance=site.mastodon.url
        )

    assert status == 429
    assert shown in html
    assert 'id="instance-error"' in html  # shown by the instance field
    assert f'value="{site.mastodon.url}"' in html  # what was typed is kept
    assert await site.repo.get_mastodon_app(site.mastodon.host) is None
    assert site.mastodon.requests == []  # the instance was never contacted
    assert campaign.id is not None
    assert await site.repo.pledges_of_campaign(campaign.id) == []
