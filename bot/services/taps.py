"""Opening a tap link: from the short link in a tap message to the network's compose screen.

The token (``TapLinks``) names the pledge; the redirect is built from what is stored now,
so a withdrawn pledge or an erased account gets a readable refusal instead of a compose
screen. Each pledge's first opening is recorded as the campaign event ``tap:<pledge id>``,
which the launch report counts. The web layer turns a refusal's ``Refusal`` kind into an
HTTP status; nothing here knows HTTP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.campaign import NOT_YET_LAUNCHED, CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.events import EventKind
from bot.domain.pledge import PledgeStatus
from bot.domain.text import Text, t
from bot.ports import Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.tap_links import TapLinks

log = logging.getLogger(__name__)

DELIVERABLE = frozenset({CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED})


class Refusal(StrEnum):
    """Why a tap link does not lead to a compose screen."""

    INVALID = "invalid"  # not one of our links
    GONE = "gone"  # expired, withdrawn, erased, or a campaign that did not launch: for good
    NOT_YET = "not_yet"  # the campaign has not launched yet
    UNAVAILABLE = "unavailable"  # the network is not offered at the moment


_KIND_BY_KEY = {
    "web.tap.invalid": Refusal.INVALID,
    "web.tap.expired": Refusal.GONE,
    "web.tap.withdrawn": Refusal.GONE,
    "web.tap.erased": Refusal.GONE,
    "web.tap.over": Refusal.GONE,
    "web.tap.not_yet": Refusal.NOT_YET,
    "web.tap.network_unavailable": Refusal.UNAVAILABLE,
}


@dataclass(frozen=True)
class TapRefused:
    """A refusal in words, its kind, and the supporter's language when it is known."""

    text: Text
    kind: Refusal
    language: str | None = None


def _refused(text: Text, language: str | None = None) -> TapRefused:
    return TapRefused(text, _KIND_BY_KEY.get(text.key, Refusal.INVALID), language)


class TapService:
    """Turns a tap link into the compose URL it stands for, counting its first opening."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        tap_links: TapLinks,
        registry: NetworkRegistry,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._tap_links = tap_links
        self._registry = registry  # the offered networks build the compose URL

    async def open(self, token: str, *, count_opening: bool) -> str | TapRefused:
        """The compose URL of the pledge ``token`` names, or why there is none.

        ``count_opening``: this is a supporter's tap (not a link preview), so its first
        opening is recorded.
        """
        try:
            ticket = self._tap_links.read(token)
        except DomainError as error:
            return _refused(error.text)
        pledge = await self._repo.get_pledge(ticket.pledge_id)
        if pledge is None:  # erased with /forget
            return _refused(t("web.tap.erased"))
        language = pledge.supporter.language or None
        if pledge.status is PledgeStatus.WITHDRAWN:
            return _refused(t("web.tap.withdrawn"), language)
        account = await self._repo.get_account(pledge.account_id)
        campaign = await self._repo.get_campaign(pledge.campaign_id)
        if account is None or campaign is None:
            return _refused(t("web.tap.erased"), language)
        if campaign.status not in DELIVERABLE:
            key = "web.tap.not_yet" if campaign.status in NOT_YET_LAUNCHED else "web.tap.over"
            return _refused(t(key, title=campaign.title), language)
        network = self._registry.networks().get(pledge.network)
        if network is None:
            name = t(f"network.{pledge.network}")
            return _refused(t("web.tap.network_unavailable", network=name), language)
        url = network.compose_url(account, pledge.text(campaign))
        if count_opening:
            await self._record(campaign.id, ticket.pledge_id)
        return url

    async def _record(self, campaign_id: int | None, pledge_id: int) -> None:
        """Count the opening; a failure here must not cost the supporter their post."""
        if campaign_id is None:
            return
        try:
            first = await self._repo.claim_event(
                campaign_id, EventKind.TAP_OPENED, self._clock.now(), subject=pledge_id
            )
        except Exception:
            log.exception("could not record the opening of tap link of pledge %s", pledge_id)
            return
        if first:
            log.info("tap link of pledge %s opened", pledge_id)
