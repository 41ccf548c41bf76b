"""What the link preview, the badge and the embeddable widget may show, and with which figures.

A campaign is shown outside the bot's chats only once a moderator approved it: live,
launching, launched or failed. Drafts, campaigns awaiting review, rejected, cancelled and
expired ones stay private, so every media route answers them as it answers an unknown
reference. The figures are derived from the pledge rows on each request.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.campaign import Campaign, CampaignStatus, normalise_ref
from bot.domain.cards import CampaignStats
from bot.ports import Repository
from bot.services.pictures import PictureService, StoredPicture

PUBLIC_STATUSES = frozenset(
    {
        CampaignStatus.LIVE,
        CampaignStatus.LAUNCHING,
        CampaignStatus.LAUNCHED,
        CampaignStatus.FAILED,
    }
)
MAX_REF_LENGTH = 32


def is_public(campaign: Campaign) -> bool:
    return campaign.status in PUBLIC_STATUSES


@dataclass(frozen=True)
class Showcase:
    """One public campaign and its figures now."""

    campaign: Campaign
    supporters: int
    reach: int

    @property
    def fingerprint(self) -> tuple[int, int, int, int]:
        """Changes whenever anything drawn changes: the campaign row (title, goal, launch
        moment, status bump its version) or the figures."""
        return (self.campaign.id or 0, self.campaign.version, self.supporters, self.reach)


class CampaignMedia:
    def __init__(self, repo: Repository, pictures: PictureService) -> None:
        self.repo = repo
        self.pictures = pictures

    async def showcase(self, ref: str) -> Showcase | None:
        """The public campaign ``ref`` names with its figures; None if there is none."""
        if len(ref) > MAX_REF_LENGTH:
            return None
        campaign = await self.repo.find_campaign(normalise_ref(ref))
        if campaign is None or campaign.id is None or not is_public(campaign):
            return None
        stats: CampaignStats = await self.repo.campaign_stats(campaign.id)
        return Showcase(campaign, stats.supporters, stats.reach)

    async def picture_of(self, campaign: Campaign) -> bytes | None:
        """The bytes of ``campaign``'s picture; None if it has none (or it is gone)."""
        stored = await self.pictures.load(campaign.picture)
        return stored.data if stored else None

    async def picture_by_key(self, key: str) -> StoredPicture | None:
        """A kept picture by its key, the link on the moderation card: the key names the
        content (a SHA-256), so only someone given the link can ask for it."""
        return await self.pictures.load(key)

    async def picture(self, ref: str) -> StoredPicture | None:
        """The picture of the public campaign ``ref`` names; None if there is none."""
        if len(ref) > MAX_REF_LENGTH:
            return None
        campaign = await self.repo.find_campaign(normalise_ref(ref))
        if campaign is None or not is_public(campaign) or not campaign.picture:
            return None
        return await self.pictures.load(campaign.picture)
