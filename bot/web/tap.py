"""The short tap link: ``GET /tap/{token}`` redirects to the network's compose screen.

Tap messages carry this link instead of the compose URL itself, which is too long for
chat buttons. The token (``core.tap_links``) names the pledge; the redirect is built
from what is stored now, so a withdrawn pledge or an erased account gets a readable
page instead of a compose screen. Each pledge's first opening is recorded as the
campaign event ``tap:<pledge id>``, which the launch report counts.
"""

from __future__ import annotations

import logging

from aiohttp import web
from jinja2 import Environment

from bot.app import Core
from bot.blast.report import TAP_OPENED_PREFIX
from bot.domain.campaign import NOT_YET_LAUNCHED, CampaignStatus
from bot.domain.errors import DomainError
from bot.domain.pledge import PledgeStatus
from bot.domain.text import Text, t
from bot.web.rendering import Page

log = logging.getLogger(__name__)

DELIVERABLE = frozenset({CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED})
REDIRECT_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
STATUS_BY_KEY = {
    "web.tap.invalid": 400,
    "web.tap.expired": 410,
    "web.tap.withdrawn": 410,
    "web.tap.erased": 410,
    "web.tap.over": 410,
    "web.tap.not_yet": 409,
    "web.tap.network_unavailable": 503,
}


class TapRedirects:
    """The ``/tap/{token}`` route of the pledge site."""

    def __init__(self, core: Core, env: Environment) -> None:
        self.core = core
        self.env = env

    def refusal(
        self, request: web.Request, text: Text, language: str | None = None
    ) -> web.Response:
        """A readable page in the visitor's language (else the supporter's, else ours)."""
        settings = self.core.settings
        page = Page(self.env, request, language or settings.default_language, settings.timezone)
        return page.response(
            "tap.html", status=STATUS_BY_KEY.get(text.key, 400), message=page.text(text)
        )

    async def open(self, request: web.Request) -> web.Response:
        core = self.core
        try:
            ticket = core.tap_links.read(request.match_info["token"])
        except DomainError as error:
            return self.refusal(request, error.text)
        pledge = await core.repo.get_pledge(ticket.pledge_id)
        if pledge is None:  # erased with /forget
            return self.refusal(request, t("web.tap.erased"))
        language = pledge.supporter.language or None
        if pledge.status is PledgeStatus.WITHDRAWN:
            return self.refusal(request, t("web.tap.withdrawn"), language)
        account = await core.repo.get_account(pledge.account_id)
        campaign = await core.repo.get_campaign(pledge.campaign_id)
        if account is None or campaign is None:
            return self.refusal(request, t("web.tap.erased"), language)
        if campaign.status not in DELIVERABLE:
            key = "web.tap.not_yet" if campaign.status in NOT_YET_LAUNCHED else "web.tap.over"
            return self.refusal(request, t(key, title=campaign.title), language)
        network = core.networks.get(pledge.network)
        if network is None:
            name = t(f"network.{pledge.network}")
            return self.refusal(request, t("web.tap.network_unavailable", network=name), language)
        url = network.compose_url(account, pledge.message or campaign.message)
        if request.method == "GET":  # a HEAD (link preview) is not a supporter's tap
            await self._record(campaign.id, ticket.pledge_id)
        return web.Response(status=303, headers={"Location": url, **REDIRECT_HEADERS})

    async def _record(self, campaign_id: int | None, pledge_id: int) -> None:
        """Count the opening; a failure here must not cost the supporter their post."""
        if campaign_id is None:
            return
        try:
            first = await self.core.repo.claim_event(
                campaign_id, f"{TAP_OPENED_PREFIX}{pledge_id}", self.core.clock.now()
            )
        except Exception:
            log.exception("could not record the opening of tap link of pledge %s", pledge_id)
            return
        if first:
            log.info("tap link of pledge %s opened", pledge_id)
