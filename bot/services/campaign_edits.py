"""Organisers change a campaign before its launch: ``/editcampaign REF field value``.

After a moderator requested changes the organiser edits any field and resubmits (a new
moderation card, the same reference). Once approved, the launch moment and the goal may
change (``bot.domain.edits`` has the rules); a new title or message, or a launch moved
nearer than a day away, sends the campaign back to moderation with its pledges kept.
Every change to an approved campaign reaches each supporter privately, in their own
language, with the old and new values and a button to withdraw their pledge; muted
supporters are told too (this is not an organiser's update but a change to what they
pledged for), and web pledges without a chat are skipped quietly. The scheduler hears of
every change, so a new launch moment re-arms its timers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.campaign import Campaign, CampaignStatus, validate_goal
from bot.domain.cards import CardKind, PostedCard
from bot.domain.edits import FIELDS, CampaignEdit, Change, EditOutcome, apply_edit, resubmit
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.launch_time import parse_launch_moment
from bot.domain.message_rules import validate_message
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.refs import UserRef
from bot.domain.text import Text, t
from bot.notifier import Notifier
from bot.ports import Clock, Repository
from bot.registry import NetworkRegistry
from bot.services.campaigns import CampaignService
from bot.services.cards import goal_text, moderation_card
from bot.services.pledges import PledgeService
from bot.services.views import unpledged

log = logging.getLogger(__name__)

WITHDRAW_ACTION = "withdraw"  # withdraw:<ref>: the supporter withdraws after a change
NOTICE_CONCURRENCY = 8


def change_line(change: Change) -> Text:
    """One line of a change notice: the field, its old and new values."""
    if change.field == "goal":
        old, new = change.old, change.new
        assert isinstance(old, int) and isinstance(new, int)
        return t("edit.changed_goal", old=_goal(old), new=_goal(new))
    if change.field == "launch_at":
        return t("edit.changed_launch", old=change.old, new=change.new)
    return t(f"edit.changed_{change.field}", old=change.old, new=change.new)


def _goal(goal: int) -> Text:
    return t("goal.none") if goal == 0 else t("goal.count", goal=goal)


def supporter_notice(campaign: Campaign, outcome: EditOutcome) -> OutgoingMessage:
    """What each supporter reads: what changed, whether it is reviewed again, Withdraw."""
    parts = [t("edit.supporter_header", title=campaign.title, ref=campaign.ref)]
    parts.extend(change_line(c) for c in outcome.changes)
    if outcome.back_to_review:
        parts.append(t("edit.supporter_review"))
    parts.append(t("edit.supporter_choice"))
    withdraw = Button(t("edit.button_withdraw"), action=f"{WITHDRAW_ACTION}:{campaign.ref}")
    return OutgoingMessage(tuple(parts), ((withdraw,),))


def campaign_fields(campaign: Campaign) -> OutgoingMessage:
    """The organiser's view of what may be edited, with the current values."""
    asked = campaign.status is CampaignStatus.CHANGES_REQUESTED
    status = t(f"status.{campaign.status.value}")
    key = "edit.open_changes" if asked else "edit.open"
    parts = [t(key, title=campaign.title, ref=campaign.ref, status=status)]
    if campaign.status is CampaignStatus.CHANGES_REQUESTED and campaign.reject_reason:
        parts.append(t("edit.note", note=campaign.reject_reason))
    parts.extend(
        [
            t("edit.field_title", value=campaign.title),
            t("edit.field_message", value=campaign.message),
            t("edit.field_goal", value=goal_text(campaign)),
            t("edit.field_launch", value=campaign.launch_at),
        ]
    )
    return OutgoingMessage(tuple(parts))


@dataclass
class CampaignEditService:
    repo: Repository
    clock: Clock
    notifier: Notifier
    campaigns: CampaignService
    pledges: PledgeService
    registry: NetworkRegistry
    tz: ZoneInfo
    min_lead: timedelta

    async def _mine(self, ref: str, organiser: UserRef) -> Campaign:
        campaign = await self.campaigns.get(ref)
        if not campaign.organiser.same_person(organiser):
            log.info("%s tried to edit campaign %s", organiser.key, campaign.ref)
            raise NotAllowed("campaign.not_yours", ref=campaign.ref)
        return campaign

    async def show(self, ref: str, organiser: UserRef) -> OutgoingMessage:
        """The campaign's editable fields (only its organiser sees them)."""
        return campaign_fields(await self._mine(ref, organiser))

    def _parse(self, campaign: Campaign, field: str, raw: str) -> CampaignEdit:
        name = field.strip().lower()
        if name not in FIELDS:
            raise InvalidInput("edit.unknown_field", field=name[:20], fields=", ".join(FIELDS))
        if not raw.strip():
            raise InvalidInput("edit.missing_value", field=name)
        if name == "title":
            return CampaignEdit(title=raw)
        if name == "message":
            specs = self.registry.specs(campaign.networks)
            return CampaignEdit(message=validate_message(raw, specs))
        if name == "goal":
            return CampaignEdit(goal=validate_goal(raw))
        moment = parse_launch_moment(raw, now=self.clock.now(), tz=self.tz, min_lead=self.min_lead)
        return CampaignEdit(launch_at=moment)

    async def edit(self, ref: str, organiser: UserRef, field: str, raw: str) -> OutgoingMessage:
        """Change one field; the answer for the organiser."""
        campaign = await self._mine(ref, organiser)
        outcome = apply_edit(
            campaign,
            self._parse(campaign, field, raw),
            at=self.clock.now(),
            min_lead=self.min_lead,
        )
        stored = await self.repo.update_campaign(outcome.campaign)
        log.info(
            "campaign %s edited by its organiser: %s",
            stored.ref,
            ", ".join(c.field for c in outcome.changes),
        )
        if campaign.status is CampaignStatus.CHANGES_REQUESTED:
            return OutgoingMessage.of(t("edit.saved_resubmit", ref=stored.ref))
        assert stored.id is not None
        if outcome.back_to_review:
            await self._to_moderators(stored)
        await self.campaigns.watcher.campaign_changed(stored)  # re-arms the timers
        await self.campaigns.cards.refresh_now(stored.id)
        told, total = await self._tell_supporters(stored, outcome)
        key = "edit.saved_review" if outcome.back_to_review else "edit.saved_live"
        return OutgoingMessage.of(t(key, ref=stored.ref, told=told, total=total))

    async def resubmit(self, ref: str, organiser: UserRef) -> OutgoingMessage:
        """Send a campaign whose changes were requested back to the moderators."""
        campaign = await self._mine(ref, organiser)
        pending = await self.repo.update_campaign(
            resubmit(campaign, at=self.clock.now(), min_lead=self.min_lead)
        )
        await self._to_moderators(pending)
        await self.campaigns.watcher.campaign_changed(pending)
        log.info("campaign %s resubmitted by its organiser", pending.ref)
        return OutgoingMessage.of(t("edit.resubmitted", title=pending.title, ref=pending.ref))

    async def withdraw(self, ref: str, supporter: UserRef) -> OutgoingMessage:
        """The Withdraw button of a change notice: /unpledge's rules and answer."""
        count = await self.pledges.unpledge(ref, supporter)
        return OutgoingMessage.of(unpledged(ref, count))

    async def _to_moderators(self, campaign: Campaign) -> None:
        """A fresh moderation card for the campaign waiting again."""
        assert campaign.id is not None
        now = self.clock.now()
        posted = await self.notifier.send_to_moderators(moderation_card(campaign))
        for message in posted:
            await self.repo.add_card(PostedCard(campaign.id, CardKind.MODERATION, message, now))
        if not posted:
            log.warning("campaign %s reached no moderation chat: check the settings", campaign.ref)

    async def _tell_supporters(self, campaign: Campaign, outcome: EditOutcome) -> tuple[int, int]:
        """Each supporter with a chat gets the notice once; (reached, supporters)."""
        assert campaign.id is not None
        pledges = await self.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
        people = {p.supporter.key: p.supporter for p in pledges}
        chats = [p for p in people.values() if self.notifier.front_end(p.platform) is not None]
        notice = supporter_notice(campaign, outcome)
        limit = asyncio.Semaphore(NOTICE_CONCURRENCY)

        async def tell(person: UserRef) -> bool:
            async with limit:
                return await self.notifier.send_to_user(person, notice) is not None

        reached = sum(await asyncio.gather(*(tell(p) for p in chats)))
        return reached, len(people)
