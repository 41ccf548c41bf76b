"""Messages the bot posted about a campaign (promotion cards, moderation cards),
and the campaign's figures derived from its pledge rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.refs import MessageRef


class CardKind(StrEnum):
    PROMOTION = "promotion"
    MODERATION = "moderation"
    # A card a person placed where the bot need not be a member (e.g. through an inline
    # query): kept up to date like a promotion card, but no chat to announce in.
    SHARED = "shared"


@dataclass(frozen=True)
class PostedCard:
    campaign_id: int
    kind: CardKind
    message: MessageRef
    posted_at: datetime
    language: str = "en"
    id: int | None = None


@dataclass(frozen=True)
class CampaignStats:
    """Counts derived from pledge rows in one query; never stored, so never drift."""

    supporters: int = 0  # people (chat identities) with a pledge not withdrawn
    accounts: int = 0  # pledges not withdrawn: a person may pledge several accounts
    reach: int = 0  # follower sum of those pledges' accounts, each account once
    posted: int = 0
    failed: int = 0
    posted_reach: int = 0
    by_network: dict[str, int] = field(default_factory=dict)  # accounts per network
    posted_by_network: dict[str, int] = field(default_factory=dict)  # posts per network
