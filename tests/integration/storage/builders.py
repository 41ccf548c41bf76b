"""Builders for the rows storage tests write: a campaign, an account, a pledge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import Pledge
from bot.domain.refs import ChatRef, UserRef
from storage import rows, statements
from storage.repository import SqlRepository

T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
ORGANISER = UserRef("telegram", "1001", "Olga Organiser", "fr")
MODERATOR = UserRef("discord", "2002", "Mo Derator", "en")
ALICE = UserRef("telegram", "3003", "Alice", "en")
BOB = UserRef("discord", "4004", "Bob", "fr")


def campaign(ref: str = "K7QX2M", **changes: Any) -> Campaign:
    base = Campaign(
        ref=ref,
        title="Save the river",
        message="Join us #SaveTheRiver https://example.org/river",
        goal=100,
        launch_at=T0 + timedelta(days=3),
        networks=(X, MASTODON),
        organiser=ORGANISER,
        created_at=T0,
        status=CampaignStatus.PENDING_REVIEW,
        origin_chat=ChatRef("telegram", "-100123"),
        late_minutes=3,
        tap_offered=True,
    )
    return replace(base, **changes)


def tokens(label: str) -> TokenSet:
    return TokenSet(
        access_token=f"access-{label}-test-token-not-real",
        refresh_token=f"refresh-{label}-test-token-not-real",
        expires_at=T0 + timedelta(hours=2),
        scope="read write",
    )


def account(
    owner: UserRef = ALICE,
    remote_id: str = "r1",
    *,
    network: Network = MASTODON,
    followers: int = 10,
    **changes: Any,
) -> SocialAccount:
    base = SocialAccount(
        owner=owner,
        network=network,
        instance="mastodon.example" if network == MASTODON else "x.com",
        remote_id=remote_id,
        handle=f"handle_{remote_id}",
        followers=followers,
        tokens=tokens(remote_id),
        linked_at=T0,
    )
    return replace(base, **changes)


def pledge(
    campaign_id: int, linked: SocialAccount, supporter: UserRef | None = None, **changes: Any
) -> Pledge:
    assert linked.id is not None
    base = Pledge(
        campaign_id=campaign_id,
        supporter=supporter or linked.owner,
        account_id=linked.id,
        network=linked.network,
        created_at=T0 + timedelta(minutes=5),
        delivery_mode=DeliveryMode.AUTO,
    )
    return replace(base, **changes)


async def store_campaign_as_before(
    repo: SqlRepository, older: Campaign, column: str = "promote_origin"
) -> Campaign:
    """Store ``older`` as code from before ``column`` existed did: later steps add columns
    to ``campaigns``, so an upgrade test must not store with today's ``add_campaign``."""
    old_columns = rows.CAMPAIGN_COLUMNS[: rows.CAMPAIGN_COLUMNS.index(column)]
    insert = statements.insert("campaigns", old_columns, suffix="RETURNING id")
    async with repo.transaction() as db:
        values = rows.campaign_values(older, repo._codec)[: len(old_columns)]
        row = await db.fetch_one(insert, *values)
    assert row is not None
    return replace(older, id=int(row["id"]))


async def store_account_as_before_binding(repo: SqlRepository, older: SocialAccount) -> int:
    """Store ``older`` as code from before accounts had ``token_binding`` did."""
    at = rows.ACCOUNT_COLUMNS.index("token_binding")
    columns = rows.ACCOUNT_COLUMNS[:at] + rows.ACCOUNT_COLUMNS[at + 1 :]
    values = list(rows.account_values(older, repo._codec))
    del values[at]
    async with repo.transaction() as db:
        row = await db.fetch_one(
            statements.insert("accounts", columns, suffix="RETURNING id"), *values
        )
    assert row is not None
    return int(row["id"])


async def store_pledge_as_before(
    repo: SqlRepository, older: Pledge, column: str = "variant"
) -> int:
    """Store ``older`` as code from before ``column`` existed on ``pledges`` did."""
    old_columns = rows.PLEDGE_COLUMNS[: rows.PLEDGE_COLUMNS.index(column)]
    insert = statements.insert("pledges", old_columns, suffix="RETURNING id")
    async with repo.transaction() as db:
        values = rows.pledge_values(older, repo._codec)
        row = await db.fetch_one(insert, *values[: len(old_columns)])
    assert row is not None
    return int(row["id"])
