"""The figures people see (the public page, ``/status``) through the cache in a whole core:
whatever this process changes about a campaign's pledges shows at once, and a flood of
views of one campaign computes its aggregates once.

The cache's clock is frozen here, so figures would be reused forever if nothing forgot
them: each change must be what makes the next view recompute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.text import t
from bot.notifier import Notifier
from bot.ports import Repository
from bot.services.card_updates import CardUpdater
from bot.services.figures import FiguresCache
from bot.services.public_pages import PublicCampaign
from tests.unit.services.conftest import pledge, profile, supporter


@pytest.fixture
def core(make_core: Callable[..., Chorus], repo: Repository) -> Chorus:
    return make_core(figures=FiguresCache(repo, now=lambda: 0.0))


async def supporters(core: Chorus, campaign: Campaign) -> int:
    shown = await core.public_pages.show(campaign.ref)
    assert isinstance(shown, PublicCampaign)
    return shown.stats.supporters


async def test_status_shows_a_pledge_at_once(
    core: Chorus, live: Callable[..., Awaitable[Campaign]]
) -> None:
    campaign = await live()
    before = await core.chat.status.status(campaign.ref)
    assert before.parts[2].params["supporters"] == 0

    await pledge(core, campaign, supporter(1))

    after = await core.chat.status.status(campaign.ref)
    assert after.parts[2].params["supporters"] == 1


async def test_the_page_shows_withdrawals_and_erasures_at_once(
    core: Chorus, live: Callable[..., Awaitable[Campaign]]
) -> None:
    campaign = await live()
    for number in (1, 2, 3):
        await pledge(core, campaign, supporter(number))
    assert await supporters(core, campaign) == 3

    await core.pledges.unpledge(campaign.ref, supporter(1))
    assert await supporters(core, campaign) == 2

    await core.pledges.forget(supporter(2))
    assert await supporters(core, campaign) == 1


async def test_the_page_shows_a_recruiter_naming_at_once(
    core: Chorus, live: Callable[..., Awaitable[Campaign]]
) -> None:
    campaign = await live()
    recruiter = supporter(1)
    await pledge(core, campaign, recruiter)
    ticket = core.links.read(core.links.issue(campaign.ref, supporter(2), recruiter.key))
    await core.pledges.record(ticket, profile(2))
    shown = await core.public_pages.show(campaign.ref)
    assert isinstance(shown, PublicCampaign)
    assert [r.name for r in shown.recruiters] == [None]

    await core.chat.recruiters.toggle(campaign.ref, recruiter)

    shown = await core.public_pages.show(campaign.ref)
    assert isinstance(shown, PublicCampaign)
    assert [r.name for r in shown.recruiters] == [recruiter.name]


async def test_a_flood_of_views_computes_the_figures_once(
    core: Chorus,
    live: Callable[..., Awaitable[Campaign]],
    repo: Repository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    computed: list[int] = []
    exact = repo.shown_figures

    async def counted(campaign_id: int, posts: int) -> Any:
        computed.append(campaign_id)
        return await exact(campaign_id, posts)

    monkeypatch.setattr(repo, "shown_figures", counted)

    views = await asyncio.gather(*(core.public_pages.show(campaign.ref) for _ in range(40)))
    answers = await asyncio.gather(*(core.chat.status.status(campaign.ref) for _ in range(40)))

    assert computed == [campaign.id]
    assert {v.stats.supporters for v in views if isinstance(v, PublicCampaign)} == {1}
    assert {a.parts[2].params["supporters"] for a in answers} == {1}


async def test_a_card_refresh_request_forgets_the_figures_and_a_refresh_refreshes_them(
    repo: Repository,
) -> None:
    """Every pledge change and blast result requests a card refresh: the figures are
    forgotten at once. The refresh itself (the request's, after its delay, or the launch's
    and the report's own) only has them recomputed behind the next reader."""
    forgotten: list[int] = []
    refreshed: list[int] = []
    cards = CardUpdater(
        repo, Notifier(), 0, on_change=forgotten.append, on_refresh=refreshed.append
    )

    cards.request(5)
    await cards.refresh_now(6)
    await cards.flush()

    assert forgotten == [5]
    assert sorted(refreshed) == [5, 6]


async def test_status_keeps_its_figures_when_the_campaign_launches(
    core: Chorus, repo: Repository, live: Callable[..., Awaitable[Campaign]]
) -> None:
    """``/status`` shows no post links, so it asks for the figures without them: the
    launch (LIVE to LAUNCHED, no pledge changed) does not leave the next ``/status`` to
    compute the aggregates afresh. It did, and that was the slowest reply while the report
    went out: 60-200 ms for the aggregates while the report read every pledge."""
    campaign = await live()
    await pledge(core, campaign, supporter(1))
    await core.chat.status.status(campaign.ref)  # the figures, computed and cached
    computed: list[tuple[Any, ...]] = []
    read = repo.shown_figures

    async def counted(*args: Any) -> Any:
        computed.append(args)
        return await read(*args)

    repo.shown_figures = counted  # type: ignore[method-assign]
    await repo.update_campaign(replace(campaign, status=CampaignStatus.LAUNCHED))

    answer = await core.chat.status.status(campaign.ref)

    assert computed == []
    assert answer.parts[2].params["supporters"] == 1
    assert answer.parts[3] == t("card.status_launched")


async def test_the_blasts_tally_refreshes_the_figures_without_dropping_them(
    repo: Repository,
) -> None:
    """The blast asks for its running tally every few seconds: that is no person's own
    change, so the figures shown meanwhile stay (recomputed behind the next reader);
    dropping them left each first /status after a tally to wait for the aggregate, the
    slowest reply while a blast posted on PostgreSQL (60 ms)."""
    forgotten: list[int] = []
    refreshed: list[int] = []
    cards = CardUpdater(
        repo, Notifier(), 0, on_change=forgotten.append, on_refresh=refreshed.append
    )

    cards.request(7, changed=False)
    await cards.flush()

    assert forgotten == []
    assert refreshed == [7, 7]  # the request's, then its refresh's
