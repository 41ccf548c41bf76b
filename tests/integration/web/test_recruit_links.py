"""Recruit links over real HTTP: the page carries a recruiter's code to its Telegram button
and shows the top recruiters anonymously; the thank-you page offers the supporter's own link.
"""

from __future__ import annotations

import aiohttp

from bot.domain.refs import UserRef
from tests.fakes.pledge_site import SUPPORTER, PledgeSite
from tests.integration.web import test_public_page as public_page
from tests.integration.web.test_pledge_flow import get, pledge

BOT = public_page.BOT
site = public_page.site  # the site with a Telegram bot username
ANN = UserRef("test", "55", "Ann", "en")


async def test_a_recruit_pledges_and_is_offered_their_own_link(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign()
    assert campaign.id is not None
    await site.pledge(campaign, ANN)
    ann_code = site.core.pledges.recruits.code(campaign.ref, ANN)

    _, page, _ = await get(browser, f"{site.url}/c/{campaign.ref}?via={ann_code}")
    assert f"https://t.me/{BOT}?start={campaign.ref}_{ann_code}" in page

    _, message = await site.core.pledges.support(f"{campaign.ref}_{ann_code}", SUPPORTER)
    [[button]] = message.buttons
    assert button.url is not None
    status, html, _ = await pledge(browser, button.url, "mastodon", instance=site.mastodon.url)

    assert status == 200, html
    own = site.core.pledges.recruits.code(campaign.ref, SUPPORTER)
    assert f"{site.url}/c/{campaign.ref}?via={own}" in html
    assert "I just joined — you too?" in html
    rows = await site.repo.pledges_of_campaign(campaign.id)
    assert [r.recruited_by for r in rows if r.supporter.same_person(SUPPORTER)] == [ANN.key]
    _, page, _ = await get(browser, f"{site.url}/c/{campaign.ref}")
    assert "Supporter #1 brought 1 person" in page
    assert f"start={campaign.ref}_" not in page


async def test_a_forged_code_leaves_the_plain_telegram_link(
    site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    campaign = await site.campaign()
    _, page, _ = await get(browser, f"{site.url}/c/{campaign.ref}?via=AAAAAAAA")
    assert f'https://t.me/{BOT}?start={campaign.ref}"' in page
    assert "brought" not in page
