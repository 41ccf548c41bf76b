"""Opening a tap link, reached without HTTP: where it leads, and when it counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from adapters.networks.x_spec import X
from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.events import EventKind
from bot.domain.pledge import Pledge
from bot.services.taps import Refusal, TapRefused
from tests.unit.services.conftest import pledge, profile, supporter

Make = Callable[..., Awaitable[Campaign]]


async def tap_pledge(
    core: Chorus, live: Make, *, launched: bool = True
) -> tuple[Campaign, Pledge]:
    campaign = await live()
    pledged = await pledge(core, campaign, supporter(1, "fr"), profile(1, X))
    if launched:
        campaign = await core.repo.update_campaign(
            replace(campaign, status=CampaignStatus.LAUNCHED)
        )
    return campaign, pledged


async def taps(core: Chorus, campaign: Campaign, pledged: Pledge) -> tuple[int, bool]:
    """How many tap openings the campaign counts, and whether this pledge's is one."""
    assert campaign.id is not None and pledged.id is not None
    count = await core.repo.count_events(campaign.id, EventKind.TAP_OPENED)
    mine = await core.repo.event_claimed(campaign.id, EventKind.TAP_OPENED, pledged.id)
    return count, mine


async def test_a_tap_leads_to_the_compose_screen_and_counts_once(core: Chorus, live: Make) -> None:
    campaign, pledged = await tap_pledge(core, live)
    token = core.tap_links.issue(campaign, pledged)

    preview = await core.taps.open(token, count_opening=False)
    assert preview == "https://x.com/share"
    assert await taps(core, campaign, pledged) == (0, False)

    assert await core.taps.open(token, count_opening=True) == preview
    assert await core.taps.open(token, count_opening=True) == preview
    assert await taps(core, campaign, pledged) == (1, True)


async def test_before_the_launch_the_link_says_not_yet(core: Chorus, live: Make) -> None:
    campaign, pledged = await tap_pledge(core, live, launched=False)

    refused = await core.taps.open(core.tap_links.issue(campaign, pledged), count_opening=True)

    assert isinstance(refused, TapRefused)
    assert (refused.kind, refused.text.key, refused.language) == (
        Refusal.NOT_YET,
        "web.tap.not_yet",
        "fr",
    )
    assert await taps(core, campaign, pledged) == (0, False)


async def test_a_link_that_is_not_ours_is_invalid(core: Chorus) -> None:
    refused = await core.taps.open("not-a-tap-link", count_opening=True)

    assert isinstance(refused, TapRefused)
    assert (refused.kind, refused.language) == (Refusal.INVALID, None)
