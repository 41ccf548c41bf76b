"""The report's wordings section: posts per wording (each one, used or not), posts in the
supporters' own words apart, nothing for a campaign with one wording."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from adapters.networks.mastodon import MASTODON
from bot.blast.report import figures_of, report_message
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.variants import Variant
from bot.i18n import render

T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
MESSAGE = "Save the bees #bees https://bees.example"
CAMPAIGN = Campaign(
    ref="K7QX2M",
    title="Bees",
    message=MESSAGE,
    goal=0,
    launch_at=T0,
    networks=(MASTODON,),
    organiser=UserRef("test", "1", "Olga"),
    created_at=T0,
    status=CampaignStatus.LAUNCHED,
    variants=(Variant("Bees feed us #bees https://bees.example"), Variant("Abeilles", "fr")),
)
MODES = {MASTODON: DeliveryMode.AUTO}


def pledged(
    n: int, variant: int | None, status: PledgeStatus, message: str | None = None
) -> Pledge:
    return Pledge(
        campaign_id=1,
        supporter=UserRef("test", str(n)),
        account_id=n,
        network=MASTODON,
        created_at=T0,
        status=status,
        variant=variant,
        message=message,
        delivery_mode=DeliveryMode.AUTO,
    )


def test_posts_are_counted_per_wording_and_own_words_apart() -> None:
    pledges = [
        pledged(1, 1, PledgeStatus.POSTED),
        pledged(2, 1, PledgeStatus.POSTED),
        pledged(3, None, PledgeStatus.POSTED),  # pledged before variants: the main message
        pledged(4, 7, PledgeStatus.POSTED),  # a wording removed since: the main message
        pledged(5, 2, PledgeStatus.FAILED),  # not posted: not counted
        pledged(6, 2, PledgeStatus.WITHDRAWN),
        pledged(7, None, PledgeStatus.POSTED, message="Mine #bees https://bees.example"),
    ]
    figures = figures_of(CAMPAIGN, pledges, CampaignStats(), MODES)
    assert (figures.by_variant, figures.own_words) == ({0: 2, 1: 2}, 1)

    text = "\n".join(render(p, "en") for p in report_message(CAMPAIGN, figures).parts)
    assert "Wordings posted:\nWording 1: 2 posts\nWording 2: 2 posts\nWording 3: 0 posts" in text
    assert "In the supporter's own words: 1 post" in text
    french = "\n".join(render(p, "fr") for p in report_message(CAMPAIGN, figures).parts)
    assert "Formulation 3 : 0 publication" in french


def test_one_wording_adds_no_section() -> None:
    single = replace(CAMPAIGN, variants=())
    figures = figures_of(single, [pledged(1, 0, PledgeStatus.POSTED)], CampaignStats(), MODES)
    keys = [p.key for p in report_message(single, figures).parts]
    assert not any(key.startswith("variants.") for key in keys)
