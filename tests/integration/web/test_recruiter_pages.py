"""Recruiters and share links on the pages, over real HTTP (links read with html.parser).

A brings B, B brings C and D; B agreed to be named, A did not: the page lists B by name
first and A as "Supporter #2". Visited with ``?via=CODE``, every share link, the page link
and the QR code carry that code; the thank-you page shares the supporter's OWN link (and
links its QR image); the manage page lets a web supporter choose a name (origin and nonce
checked) or stay anonymous.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import unquote

import aiohttp

from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from bot.web.qr import qr_svg
from tests.fakes.pledge_site import PledgeSite, nonce_of
from tests.integration.web import test_public_page as public_page
from tests.integration.web.test_pledge_flow import get, pledge
from tests.integration.web.test_web_supporters import MANAGE_RE, pledge_here

Browser = aiohttp.ClientSession
site = public_page.site  # the site with a Telegram bot username
A = UserRef("test", "61", "Ann", "en")
B = UserRef("test", "62", "Bea", "en")
C = UserRef("test", "63", "Cy", "en")
D = UserRef("test", "64", "Di", "en")


class Links(HTMLParser):
    """Every link of a page section by section, the recruiter list items, input values."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.hrefs: dict[str, list[str]] = {}
        self.recruiters: list[str] = []
        self.inputs: dict[str, str] = {}
        self._in_li = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag in ("section", "article"):
            self.sections.append(classes[-1] if classes else tag)
        elif tag == "a" and found.get("href"):
            where = self.sections[-1] if self.sections else ""
            self.hrefs.setdefault(where, []).append(str(found["href"]))
        elif tag == "li" and self.sections and self.sections[-1] == "recruiters":
            self._in_li = True
            self.recruiters.append("")
        elif tag == "input" and found.get("id"):
            self.inputs[str(found["id"])] = str(found.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("section", "article") and self.sections:
            self.sections.pop()
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data: str) -> None:
        if self._in_li:
            self.recruiters[-1] += data


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def qr_paths(html: str) -> list[str]:
    return re.findall(r'<path[^>]* d="([^"]+)"', html)


async def chain(site: PledgeSite) -> Campaign:
    """A brings B, B brings C and D; B agrees to be named."""
    campaign = await site.campaign()
    assert campaign.id is not None
    for person, by in ((A, None), (B, A), (C, B), (D, B)):
        made, _ = await site.pledge(campaign, person)
        if by is not None:
            await site.repo.update_pledge(replace(made, recruited_by=by.key))
    await site.core.chat.recruiters.toggle(campaign.ref, B)
    return campaign


async def test_the_page_names_only_who_consented_in_rank_order(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")
    assert parsed(html).recruiters == ["Bea brought 2 people", "Supporter #2 brought 1 person"]
    assert "Ann" not in html

    await site.core.chat.recruiters.toggle(campaign.ref, B)  # B takes it back
    _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}")
    assert parsed(html).recruiters == [
        "Supporter #1 brought 2 people",
        "Supporter #2 brought 1 person",
    ]


async def test_a_visit_with_a_code_shares_links_carrying_that_code(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    code = site.core.pledges.recruits.code(campaign.ref, B)
    own = f"{site.url}/c/{campaign.ref}?via={code}"
    _, html, _ = await get(browser, f"{site.url}/c/{campaign.ref}?via={code.lower()}")
    page = parsed(html)
    shares = page.hrefs["share"]
    assert len(shares) >= 4
    for href in shares:
        assert own in unquote(href), href
    assert page.inputs["page-url"] == own
    title = f"QR code of the page “{campaign.title}”"
    assert qr_paths(html)[-1] == qr_paths(str(qr_svg(own, title)))[-1]

    _, plain, _ = await get(browser, f"{site.url}/c/{campaign.ref}")
    assert all("via=" not in unquote(h) for h in parsed(plain).hrefs["share"])
    _, forged, _ = await get(browser, f"{site.url}/c/{campaign.ref}?via=AAAAAAAA")
    assert all("via=" not in unquote(h) for h in parsed(forged).hrefs["share"])
    assert parsed(forged).inputs["page-url"] == f"{site.url}/c/{campaign.ref}"


async def thanks_page(site: PledgeSite, browser: Browser, ref: str, via: str) -> str:
    link = await pledge_here(site, browser, ref, via=via)
    status, html, _ = await pledge(browser, link, "mastodon", instance=site.mastodon.url)
    assert status == 200, html
    return html


async def test_the_thank_you_page_shares_the_supporters_own_code(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    b_code = site.core.pledges.recruits.code(campaign.ref, B)
    html = await thanks_page(site, browser, campaign.ref, b_code)
    page = parsed(html)
    [recruit] = [h for h in page.hrefs["recruit"] if "?via=" in h and "://" in h[:8]][:1]
    own_code = recruit.rsplit("=", 1)[1]
    assert own_code != b_code and re.fullmatch(r"[A-Z2-7]{8}", own_code)
    assert "I just joined — you too?" in html
    shares = [h for h in page.hrefs["recruit"] if h != recruit]
    assert len(shares) >= 4
    for href in shares:
        assert recruit in unquote(href), href
    # its QR code is drawn when asked for (test_recruit_qr.py): the page links the image
    assert f'src="{recruit.replace("?", "/qr.svg?")}"' in html


async def _post(browser: Browser, url: str, data: dict[str, str], **headers: str) -> int:
    async with browser.post(url, data=data, headers=headers, allow_redirects=False) as response:
        await response.read()
        return response.status


async def test_a_web_supporter_chooses_a_name_on_the_manage_page(
    site: PledgeSite, browser: Browser
) -> None:
    campaign = await chain(site)
    assert campaign.id is not None
    html = await thanks_page(site, browser, campaign.ref, "")
    match = MANAGE_RE.search(html)
    assert match
    manage = match.group(1)
    _, page, _ = await get(browser, manage)
    nonce = nonce_of(page)
    assert [h for h in parsed(page).hrefs["actions"] if "?via=" in h] == [
        re.findall(r'class="recruit-link" href="([^"]+)"', html)[0]
    ]
    target = f"{manage}/recruiter"
    named = {"nonce": nonce, "shown": "named", "name": "  Web \u202e  Fan\n"}

    assert await _post(browser, target, named, Origin="https://evil.example") == 403
    assert await _post(browser, target, {**named, "nonce": "forged-nonce-0123456789"}) == 403
    names = await site.repo.recruiter_names(campaign.id)
    assert set(names) == {B.key}

    assert await _post(browser, target, named) == 303
    names = await site.repo.recruiter_names(campaign.id)
    [web_key] = [k for k in names if k.startswith("web:")]
    assert names[web_key] == "Web Fan"
    _, page, _ = await get(browser, manage)
    assert parsed(page).inputs["recruiter-name"] == "Web Fan"
    assert web_key.split(":", 1)[1] not in page  # the internal id is never shown

    async with browser.post(
        target, data={"nonce": nonce, "shown": "named", "name": "  "}, allow_redirects=False
    ) as response:
        assert response.status == 400
        assert "Type the name to show, or choose to stay anonymous." in await response.text()
    assert await _post(browser, target, {"nonce": nonce, "shown": "anonymous"}) == 303
    assert web_key not in await site.repo.recruiter_names(campaign.id)

    assert await _post(browser, target, named) == 303
    assert await _post(browser, f"{manage}/withdraw", {"nonce": nonce}) == 303
    assert web_key not in await site.repo.recruiter_names(campaign.id)  # withdrawn: erased
