"""Refusals met during a web pledge, over real HTTP with the Mastodon fake: a web identity
has no chat, so no page tells it to go back to one. Dead ends lead back to the campaign's
public page ``/c/{REF}``; the refusals whose words name a chat have their own web wording.
Each difference is checked in English and French; a chat's link keeps its chat wording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.ports import Repository
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.web import test_public_page as public_page
from tests.integration.web.test_pledge_flow import Browser, get, pledge
from tests.integration.web.test_web_supporters import pledge_here

site = public_page.site  # the site with a Telegram bot username

LANGUAGES = ["en", "fr"]
SAY = {
    "en": {
        "back_to_page": "Back to the campaign</a>",
        "back_to_pledge": "Back to the pledge page</a>",
        "chat": ("Go back to your chat", "in the chat", "your own chat"),
        "expired": "This pledge link has expired. Go back to the campaign page and press "
        "Pledge here for a fresh one.",
        "used": "This pledge link was already used. To pledge another account, go back to "
        "the campaign page and press Pledge here again.",
        "taken": "is already linked to Chorus by someone else, so it cannot pledge here and "
        "nothing was stored. If you linked it earlier from a chat, pledge from that chat.",
        "closed": "is not open for pledges (it is cancelled).",
        "denied": "You did not authorise Chorus",
        "busy": "Please wait",
    },
    "fr": {
        "back_to_page": "Retour à la campagne</a>",
        "back_to_pledge": "Revenir à la page d&#39;engagement</a>",
        "chat": ("Revenez à votre discussion", "dans la discussion", "votre propre discussion"),
        "expired": "Ce lien de soutien a expiré. Revenez à la page de la campagne et appuyez "
        "sur S’engager ici pour en obtenir un nouveau.",
        "used": "Ce lien de soutien a déjà servi. Pour engager un autre compte, revenez à la "
        "page de la campagne et appuyez à nouveau sur S’engager ici.",
        "taken": "est déjà lié à Chorus par quelqu’un d’autre : il ne peut pas s’engager ici "
        "et rien n’a été enregistré.",
        "closed": "n&#39;accepte pas de soutiens (état : annulée).",
        "denied": "Vous n&#39;avez pas autorisé Chorus",
        "busy": "Patientez",
    },
}


def speak(browser: Browser, language: str) -> dict[str, object]:
    browser.headers["Accept-Language"] = language  # type: ignore[index]
    return SAY[language]


def no_chat(html: str, language: str) -> None:
    for words in SAY[language]["chat"]:
        assert words not in html, words


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_expired_web_link_leads_back_to_the_page(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    link = await pledge_here(site, browser, campaign.ref)
    site.clock.advance(timedelta(days=2))  # past the link's day
    say = speak(browser, language)

    status, html, _ = await get(browser, link)

    assert status == 410, html
    assert say["expired"] in html
    assert f'href="/c/{campaign.ref}">{say["back_to_page"]}' in html
    no_chat(html, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_used_web_link_leads_back_to_the_page(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    link = await pledge_here(site, browser, campaign.ref)
    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)
    assert status == 200, html
    say = speak(browser, language)

    status, html, _ = await get(browser, link)

    assert status == 410, html
    assert say["used"] in html
    assert f'href="/c/{campaign.ref}">{say["back_to_page"]}' in html
    no_chat(html, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_closed_campaign_leads_a_web_pledge_back_to_the_page(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    link = await pledge_here(site, browser, campaign.ref)
    await site.core.campaigns.cancel(campaign.ref, campaign.organiser)
    say = speak(browser, language)

    status, html, _ = await get(browser, link)

    assert status == 409, html
    assert say["closed"] in html
    assert f'href="/c/{campaign.ref}">{say["back_to_page"]}' in html
    no_chat(html, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_account_taken_is_worded_without_a_chat(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    # someone in a chat linked @bob first; the web visitor authorises as @bob too
    status, html, _ = await pledge(
        browser, site.link(campaign), "mastodon", instance=site.mastodon.url
    )
    assert status == 200, html
    link = await pledge_here(site, browser, campaign.ref)
    say = speak(browser, language)

    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)

    assert status == 409, html
    assert say["taken"] in html
    assert f'href="{link.removeprefix(site.url)}">{say["back_to_pledge"]}' in html
    no_chat(html, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_refused_authorisation_leads_back_to_the_pledge_page(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    link = await pledge_here(site, browser, campaign.ref)
    site.mastodon.deny_next = True
    say = speak(browser, language)

    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)

    assert status == 403, html
    assert say["denied"] in html
    assert f'href="{link.removeprefix(site.url)}">{say["back_to_pledge"]}' in html
    no_chat(html, language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_chat_link_keeps_its_chat_wording(
    site: PledgeSite, browser: Browser, language: str
) -> None:
    campaign = await site.campaign()
    site.clock.advance(timedelta(days=2))
    say = speak(browser, language)

    status, html, _ = await get(browser, site.link(campaign))

    assert status == 410, html
    assert say["chat"][0] in html
    assert f'href="/c/{campaign.ref}"' not in html


@pytest.fixture
async def strict_site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo, web_rate_per_link=2, web_rate_per_address=100)
    try:
        yield running
    finally:
        await running.close()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_rate_limited_web_pledge_names_no_chat(
    strict_site: PledgeSite, browser: Browser, language: str
) -> None:
    site = strict_site
    campaign = await site.campaign()
    link = await pledge_here(site, browser, campaign.ref)  # opens the link once
    say = speak(browser, language)

    statuses = [(await get(browser, link))[0] for _ in range(2)]
    status, html, _ = await get(browser, link)

    assert statuses[0] == 200 and status == 429, html
    assert say["busy"] in html
    no_chat(html, language)
