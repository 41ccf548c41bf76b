"""Each supporter's own result after the launch, through the Telegram Bot API fake: an
auto supporter (English) gets the link to their post, a tap supporter (French) a thank-you
once the read-back saw their post, both with the totals, in a private ``sendMessage``;
a second report run and a restarted process send nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus
from bot.dialog import CampaignDraft
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import Network
from bot.domain.pledge import PledgeStatus
from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.networks import FakeNetwork
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    MODERATOR,
    ORGANISER,
    SUPPORTER,
    Driver,
    pledge_token,
    private,
    ref_of,
    telegram_core,
)

MESSAGE = "Our rivers deserve better #cleanrivers https://example.org/rivers"
TITLE = "Clean rivers now"


@pytest.fixture
def networks(repo: Repository, clock: FakeClock) -> dict[Network, FakeNetwork]:  # type: ignore[override]
    return {n: FakeNetwork(n, clock, repo) for n in (MASTODON, X)}  # Mastodon auto, X tap


async def _live(core: Chorus, clock: FakeClock) -> Campaign:
    draft = CampaignDraft(
        title=TITLE,
        message=MESSAGE,
        goal=2,
        launch_at=clock.now() + timedelta(days=2),
        networks=(MASTODON, X),
    )
    submitted = await core.campaigns.submit(draft, ref_of(ORGANISER))
    assert submitted.id is not None
    return await core.moderation.approve(submitted.id, ref_of(MODERATOR), may_moderate=True)


async def _pledge(
    tg: Driver, core: Chorus, campaign: Campaign, person: dict, profile: LinkedProfile
) -> None:
    intro = await tg.say(person, private(person), f"/start {campaign.ref}")
    ticket = core.links.read(pledge_token(intro))
    assert ticket.supporter == ref_of(person)
    await core.pledges.record(ticket, profile)


def _results(api: FakeTelegramApi, person: dict, since: int = 0) -> list[ApiCall]:
    together = ("Together:", "Ensemble :")
    return [
        c
        for c in api.calls[since:]
        if c.method == "sendMessage"
        and c.chat_id == person["id"]
        and any(word in (c.text or "") for word in together)
    ]


async def test_each_supporter_gets_their_own_result_privately_once(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    networks: dict[Network, FakeNetwork],
    settings: Settings,
    repo: Repository,
    outbound: object,
) -> None:
    campaign = await _live(core, clock)
    assert campaign.id is not None
    await _pledge(
        tg,
        core,
        campaign,
        SUPPORTER,
        LinkedProfile(MASTODON, "mastodon.social", "m1", "sacha", 40, TokenSet("tok-m")),
    )
    await _pledge(
        tg,
        core,
        campaign,
        FRENCH,
        LinkedProfile(X, "x.com", "x1", "francoise", 60, TokenSet("tok-x")),
    )

    # the launch: Mastodon posts at once; the X supporter is offered a compose link
    clock.set(campaign.launch_at)
    stored = await core.repo.get_campaign(campaign.id)
    assert stored is not None
    launched = await core.blast.launch(stored)
    assert launched.status is CampaignStatus.LAUNCHED
    assert _results(api, SUPPORTER) == [] and _results(api, FRENCH) == []  # the taps first

    # the French supporter posts on X themselves; the report reads it back
    pledges = {p.network: p for p in await core.repo.pledges_of_campaign(campaign.id)}
    account = await core.repo.get_account(pledges[X].account_id)
    assert account is not None
    networks[X].user_posts(account, MESSAGE, at=campaign.launch_at + timedelta(minutes=3))
    clock.advance(timedelta(hours=3))
    await core.blast.report(launched)

    done = {p.network: p for p in await core.repo.pledges_of_campaign(campaign.id)}
    assert done[MASTODON].status is PledgeStatus.POSTED
    assert done[X].status is PledgeStatus.POSTED
    posted_url, tapped_url = done[MASTODON].remote_post_url, done[X].remote_post_url
    assert posted_url and tapped_url

    (english,) = _results(api, SUPPORTER)
    assert english.text == "\n\n".join(
        render(line, "en")
        for line in (
            t("result.posted", title=TITLE, url=posted_url),
            t(
                "result.totals",
                supporters=2,
                posted=t("result.posts", posted=2),
                reach=t("result.reach", reach=100),
            ),
        )
    )
    assert posted_url in english.text
    (french,) = _results(api, FRENCH)
    assert french.text.startswith(f"🙏 Merci d'avoir publié pour « {TITLE} »")
    assert tapped_url in french.text
    assert "Ensemble : 2 soutiens, 2 publications, 100 abonnés atteints." in french.text
    assert "Together" not in french.text

    # a second report run, then a restarted process running it again: nothing twice
    since = api.mark()
    await core.blast.report(launched)
    restarted = telegram_core(settings, repo, clock, outbound, networks)  # type: ignore[arg-type]
    await restarted.blast.report(await restarted.repo.get_campaign(campaign.id))  # type: ignore[arg-type]
    assert _results(api, SUPPORTER, since) == [] and _results(api, FRENCH, since) == []
