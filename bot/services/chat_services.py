"""What a chat front end may call: the use cases it triggers and the settings it shows.

A front end (Telegram, Discord, the console) is handed this bundle at construction and
nothing else of the core; the composition root builds it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import Clock
from bot.services.campaign_edits import CampaignEditService
from bot.services.campaigns import CampaignService
from bot.services.channels import ChannelDirectory
from bot.services.dialogs import DialogService
from bot.services.moderation import ModerationService
from bot.services.pledges import PledgeService
from bot.services.post_now import PostNow
from bot.services.recruiter_names import RecruiterConsent
from bot.services.shared_cards import SharedCards
from bot.services.stats import StatsService
from bot.services.status_report import StatusReport
from bot.services.updates import UpdateService
from bot.settings import Settings


@dataclass(frozen=True)
class ChatServices:
    """The use cases behind every chat command and button."""

    settings: Settings
    clock: Clock
    campaigns: CampaignService
    moderation: ModerationService
    pledges: PledgeService
    dialogs: DialogService
    shared_cards: SharedCards  # cards people place themselves (an inline mode)
    channels: ChannelDirectory
    updates: UpdateService
    recruiters: RecruiterConsent  # named or anonymous among a campaign's top recruiters
    status: StatusReport  # /status REF, for anyone
    post_now: PostNow  # a card's Post now button, once tap links are out
    stats: StatsService  # /stats: figures, chart and CSV for organisers
    edits: CampaignEditService  # /editcampaign, resubmitting, a change notice's Withdraw
