"""Pledging from the public page without any chat, over real HTTP with the Mastodon fake:
the page → a web identity's pledge page → OAuth → thank-you page with a private manage link
→ the manage page → withdraw, pledge again, erase; forged and expired manage links refused.
"""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp

from adapters.networks.mastodon import MASTODON
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.services.manage_links import MANAGE_GRACE
from tests.fakes.pledge_site import PledgeSite, nonce_of
from tests.integration.web import test_public_page as public_page
from tests.integration.web.test_pledge_flow import get, pledge

Browser = aiohttp.ClientSession
BOT = public_page.BOT
site = public_page.site  # the site with a Telegram bot username
MANAGE_RE = re.compile(r'class="manage-link" href="([^"]+)"')


async def pledge_here(site: PledgeSite, browser: Browser, ref: str, **form: str) -> str:
    """Press "Pledge here with Mastodon" on the public page; the pledge page's address."""
    _, page, _ = await get(browser, f"{site.url}/c/{ref}")
    assert f'action="/c/{ref}/pledge/mastodon"' in page
    async with browser.post(
        f"{site.url}/c/{ref}/pledge/mastodon", data=form, allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
        location = response.headers["Location"]
    assert location.startswith("/pledge/")
    _, html, _ = await get(browser, f"{site.url}{location}")
    assert "This link was made for" not in html and "in your own chat" not in html
    return f"{site.url}{location}"


async def web_pledge(site: PledgeSite, browser: Browser, ref: str, **form: str) -> str:
    """A whole pledge from the page; the manage link shown on the thank-you page."""
    link = await pledge_here(site, browser, ref, **form)
    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)
    assert status == 200, html
    assert "/unpledge" not in html  # no chat to send it in
    match = MANAGE_RE.search(html)
    assert match, html
    return match.group(1)


async def act(browser: Browser, manage: str, action: str, nonce: str) -> aiohttp.ClientResponse:
    async with browser.post(
        f"{manage}/{action}", data={"nonce": nonce}, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def test_pledge_from_the_page_then_withdraw_pledge_again_and_erase(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    assert campaign.id is not None

    manage = await web_pledge(site, browser, campaign.ref)

    [row] = await site.repo.pledges_of_campaign(campaign.id)
    assert row.supporter.platform == "web"
    assert row.network == MASTODON and row.status is PledgeStatus.PLEDGED
    assert row.supporter.name.startswith("@bob@127.0.0.1")  # named after the linked account
    account = await site.repo.get_account(row.account_id)
    assert account is not None
    token = account.tokens.access_token
    assert site.mastodon.tokens[token] == account.remote_id
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 1

    status, html, _ = await get(browser, manage)
    assert status == 200, html
    assert "@bob@127.0.0.1" in html and "pledged" in html
    response = await act(browser, manage, "withdraw", nonce_of(html))
    assert response.status == 303
    status, html, _ = await get(browser, site.url + response.headers["Location"])
    assert "Done: your pledge is withdrawn." in html
    assert "withdrawn" in html
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 0

    # the account stays linked to this identity: it pledges again through a new link
    response = await act(browser, manage, "pledge", nonce_of(html))
    assert response.status == 303
    link = site.url + response.headers["Location"]
    assert link.startswith(f"{site.url}/pledge/")
    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)
    assert status == 200, html
    assert MANAGE_RE.search(html)
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 1

    [linked] = await site.repo.accounts_of(row.supporter)
    live_token = linked.tokens.access_token
    assert site.mastodon.tokens[live_token] == linked.remote_id
    status, html, _ = await get(browser, manage)
    assert "pledged" in html
    response = await act(browser, manage, "erase", nonce_of(html))
    assert response.status == 303
    status, html, _ = await get(browser, site.url + response.headers["Location"])
    assert "Erased" in html and "There is no pledge here any more." in html
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 0
    assert await site.repo.pledges_of_campaign(campaign.id) == []
    assert await site.repo.accounts_of(row.supporter) == []  # the account is gone
    assert live_token in site.mastodon.revoked  # and its token revoked at the instance
    assert token in site.mastodon.revoked  # the first one went when it was withdrawn


async def test_withdraw_without_the_form_nonce_is_refused(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    assert campaign.id is not None
    manage = await web_pledge(site, browser, campaign.ref)

    response = await act(browser, manage, "withdraw", "forged-nonce-0123456789abcdef")

    assert response.status == 403
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 1


async def test_forged_tampered_and_expired_manage_links_are_refused(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    assert campaign.id is not None
    manage = await web_pledge(site, browser, campaign.ref)
    payload, _, signature = manage.rpartition(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    for bad in (f"{site.url}/manage/not-a-link", f"{payload}.{flipped}"):
        status, html, _ = await get(browser, bad)
        assert status == 400, html
        assert "This manage link is not valid" in html
        response = await act(browser, bad, "erase", "whatever-nonce-0123456789")
        assert response.status == 400

    site.clock.advance(campaign.launch_at + MANAGE_GRACE - site.clock.now() + timedelta(1))
    status, html, _ = await get(browser, manage)
    assert status == 410, html
    assert "This manage link has expired." in html
    browser.headers["Accept-Language"] = "fr-FR,fr;q=0.9"  # type: ignore[index]
    status, html, _ = await get(browser, manage)
    assert status == 410 and "Ce lien de gestion a expiré." in html
    assert (await site.repo.campaign_stats(campaign.id)).supporters == 1  # nothing lost


async def test_a_tap_network_is_offered_only_through_a_chat(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()  # Mastodon (auto) and X (tap)

    _, page, _ = await get(browser, f"{site.url}/c/{campaign.ref}")

    assert f'action="/c/{campaign.ref}/pledge/mastodon"' in page
    assert f'action="/c/{campaign.ref}/pledge/x"' not in page
    assert "X: pledge from a chat" in page
    assert f"https://t.me/{BOT}?start={campaign.ref}" in page
    async with browser.post(
        f"{site.url}/c/{campaign.ref}/pledge/x", allow_redirects=False
    ) as response:
        assert response.status == 404
    # and a web identity's pledge page offers no tap network either
    link = await pledge_here(site, browser, campaign.ref)
    status, html, _ = await get(browser, link)
    assert status == 200, html
    assert f'action="{link.removeprefix(site.url)}/x"' not in html
    async with browser.post(
        f"{link}/x", data={"nonce": nonce_of(html)}, allow_redirects=False
    ) as response:
        assert response.status == 404


async def test_a_recruit_code_is_carried_to_the_web_pledge(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await site.campaign()
    assert campaign.id is not None
    ann = UserRef("test", "55", "Ann", "en")
    await site.pledge(campaign, ann)
    code = site.core.pledges.recruits.code(campaign.ref, ann)
    _, page, _ = await get(browser, f"{site.url}/c/{campaign.ref}?via={code}")
    assert f'name="via" value="{code}"' in page

    await web_pledge(site, browser, campaign.ref, via=code)

    rows = await site.repo.pledges_of_campaign(campaign.id)
    assert [r.recruited_by for r in rows if r.supporter.platform == "web"] == [ann.key]
