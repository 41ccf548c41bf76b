"""Post now: a supporter the bot could not reach privately gets their link from the card.

At a tap launch every supporter is sent their one-tap link privately; someone who blocked
the bot or closed their direct messages would silently miss it. So the promoted cards
switch to a Post now button. Whoever presses it is looked up: a supporter with a link
still to use gets their own links (shown only to them by the front end, or sent privately
when the bot can reach them); anyone else gets a clear answer. Each pledge whose link was
handed out this way is counted once for the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.campaign import Campaign, normalise_ref
from bot.domain.errors import NotFound
from bot.domain.events import EventKind
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import DeliveryState, Pledge, PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import Text, t
from bot.notifier import Notifier, Reach
from bot.ports import Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.card_updates import CardUpdater
from bot.services.tap_links import TapLinks

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    LINKS = "links"  # the presser's own links, in ``message``
    SENT = "sent"  # the links went to the presser's private chat
    UNREACHABLE = "unreachable"  # the presser cannot be written to: open the bot first
    NOT_SUPPORTER = "not_supporter"
    NOTHING_LEFT = "nothing_left"  # a supporter with no link to use (posted, or auto)
    CLOSED = "closed"  # no tap links are out for this campaign now


@dataclass(frozen=True)
class PostNowAnswer:
    """What to show the presser: ``note`` (a short line, fit for an alert) and, with
    ``LINKS``, the message with their link buttons."""

    outcome: Outcome
    campaign: Campaign
    note: Text
    message: OutgoingMessage | None = None


@dataclass
class PostNow:
    repo: Repository
    clock: Clock
    registry: NetworkRegistry
    links: TapLinks
    notifier: Notifier
    cards: CardUpdater

    async def press(self, ref: str, person: UserRef) -> PostNowAnswer:
        """``person`` pressed Post now on the card of ``ref``: their links, or why none."""
        campaign = await self.repo.find_campaign(normalise_ref(ref))
        if campaign is None or campaign.id is None:
            raise NotFound("campaign.not_found", ref=normalise_ref(ref)[:16])
        title = campaign.title
        if not await self.cards.post_now_open(campaign):  # launched, links out, no report
            return PostNowAnswer(Outcome.CLOSED, campaign, t("launchcard.closed", title=title))
        mine = [
            p
            for p in await self.repo.pledges_of_supporter(person)
            if p.campaign_id == campaign.id and p.status is not PledgeStatus.WITHDRAWN
        ]
        if not mine:
            note = t("launchcard.not_supporter", title=title)
            return PostNowAnswer(Outcome.NOT_SUPPORTER, campaign, note)
        open_ = [
            p
            for p in mine
            if p.status is PledgeStatus.PLEDGED and p.delivery is DeliveryState.TAP_OFFERED
        ]
        accounts = await self.repo.get_accounts([p.account_id for p in open_])
        open_ = [p for p in open_ if p.account_id in accounts]
        if not open_:
            note = t("launchcard.nothing_left", title=title)
            return PostNowAnswer(Outcome.NOTHING_LEFT, campaign, note)
        message = links_message(
            campaign,
            [
                (p, self.registry.display(accounts[p.account_id]), self.links.url(campaign, p))
                for p in open_
            ],
        )
        note = t("launchcard.here_are_links", title=title)
        return PostNowAnswer(Outcome.LINKS, campaign, note, message)

    async def handed(self, answer: PostNowAnswer, person: UserRef) -> None:
        """The links of ``answer`` reached ``person``: count their pledges for the report."""
        campaign = answer.campaign
        if answer.outcome is not Outcome.LINKS or campaign.id is None:
            return
        now = self.clock.now()
        for pledge in await self.repo.pledges_of_supporter(person):
            if (
                pledge.campaign_id == campaign.id
                and pledge.id is not None
                and pledge.delivery is DeliveryState.TAP_OFFERED
            ):
                await self.repo.claim_event(
                    campaign.id, EventKind.POST_NOW, now, subject=pledge.id
                )

    async def press_and_send(self, ref: str, person: UserRef) -> PostNowAnswer:
        """Post now for a front end that answers with a short alert: the links go to the
        presser's private chat; SENT, UNREACHABLE (they must open the bot), or why none."""
        answer = await self.press(ref, person)
        if answer.outcome is not Outcome.LINKS or answer.message is None:
            return answer
        reach = await self.notifier.reach_user(person, answer.message)
        if reach is Reach.SENT:
            await self.handed(answer, person)
            note = t("launchcard.sent_privately", title=answer.campaign.title)
            return PostNowAnswer(Outcome.SENT, answer.campaign, note)
        log.info("post now: %s:%s is %s privately", person.platform, person.id, reach)
        note = t("launchcard.open_bot", title=answer.campaign.title)
        return PostNowAnswer(Outcome.UNREACHABLE, answer.campaign, note)


def links_message(campaign: Campaign, offers: list[tuple[Pledge, str, str]]) -> OutgoingMessage:
    """One message with every link of one supporter, ``(pledge, account, link)`` each: the
    words of the tap offer, one URL button per account."""
    parts: list[Text] = [t("launchcard.links_intro", title=campaign.title)]
    parts.extend(
        t("launchcard.link_line", account=account, message=pledge.message or campaign.message)
        for pledge, account, _ in offers
    )
    buttons = tuple(
        (Button(t("blast.tap_button", network=t(f"network.{pledge.network}")), url=link),)
        for pledge, _, link in offers
    )
    return OutgoingMessage(tuple(parts), buttons)
