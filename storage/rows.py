"""One function per table turning a stored row into a core dataclass and back.

Both back ends share these, so SQLite and PostgreSQL store exactly the same things.
The few differences between the two (times as ISO text or ``timestamptz``, JSON as text
or ``jsonb``) live in a ``Codec``; tokens, the Mastodon client secret and OAuth data are
encrypted here, so no back end can forget to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from bot.crypto import TokenCipher
from bot.domain.account import PendingRevocation, SocialAccount, TokenSet, follower_count
from bot.domain.campaign import Campaign, CampaignStatus, JoinLink, LaunchDecision
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import DeliveryHead, DeliveryState, Pledge, PledgeStatus
from bot.domain.recruits import Recruiter
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.domain.variants import variants_from_data, variants_to_data

Row = Mapping[str, Any]

# Enum members by stored value: a dict lookup is several times cheaper than ``Enum(value)``,
# which matters when 100,000 pledges load at once.
_network = cache(Network)  # one shared value per network id, as cheap as a dict lookup
_PLEDGE_STATUSES = {member.value: member for member in PledgeStatus}
_DELIVERY_STATES = {member.value: member for member in DeliveryState}
_DELIVERY_MODES = {member.value: member for member in DeliveryMode}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"  # fixed width: text order is time order


def identifier(name: str) -> str:
    """Return ``name`` if it is a plain lower-case SQL identifier from our own code."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


class Codec:
    """How one back end stores times and JSON, plus the cipher for secrets."""

    def __init__(self, cipher: TokenCipher) -> None:
        self.cipher = cipher

    def time_in(self, moment: datetime | None) -> Any:
        raise NotImplementedError

    def time_out(self, value: Any) -> datetime | None:
        raise NotImplementedError

    def json_in(self, value: Any) -> Any:
        raise NotImplementedError

    def json_out(self, value: Any) -> Any:
        raise NotImplementedError

    def seal(self, plaintext: str | None) -> str | None:
        return None if plaintext is None else self.cipher.encrypt(plaintext)

    def open(self, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self.cipher.decrypt(ciphertext)

    def seal_json(self, data: Any) -> str:
        return self.cipher.encrypt(json.dumps(data, separators=(",", ":"), sort_keys=True))

    def open_json(self, ciphertext: str) -> Any:
        return json.loads(self.cipher.decrypt(ciphertext))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage; use aware UTC")
    return moment.astimezone(UTC)


class TextCodec(Codec):
    """SQLite: times as fixed-width ISO 8601 UTC text, JSON as text."""

    def time_in(self, moment: datetime | None) -> str | None:
        return None if moment is None else _utc(moment).strftime(_ISO_FORMAT)

    def time_out(self, value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value).astimezone(UTC)

    def json_in(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def json_out(self, value: Any) -> Any:
        return json.loads(value)


class NativeCodec(Codec):
    """PostgreSQL: ``timestamptz`` and ``jsonb`` (the pool installs a JSON codec)."""

    def time_in(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else _utc(moment)

    def time_out(self, value: Any) -> datetime | None:
        return None if value is None else _utc(value)

    def json_in(self, value: Any) -> Any:
        return value

    def json_out(self, value: Any) -> Any:
        return value


def _time(codec: Codec, value: Any) -> datetime:
    moment = codec.time_out(value)
    assert moment is not None
    return moment


def _user_in(user: UserRef | None) -> tuple[str | None, str | None, str | None, str | None]:
    if user is None:
        return None, None, None, None
    return user.platform, user.id, user.name, user.language


def _user_out(row: Row, prefix: str) -> UserRef | None:
    if row[f"{prefix}_platform"] is None:
        return None
    return UserRef(
        platform=row[f"{prefix}_platform"],
        id=row[f"{prefix}_id"],
        name=row[f"{prefix}_name"],
        language=row[f"{prefix}_language"],
    )


# campaigns ----------------------------------------------------------------------------

CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "ref",
    "title",
    "message",
    "goal",
    "launch_at",
    "networks",
    "organiser_platform",
    "organiser_id",
    "organiser_name",
    "organiser_language",
    "created_at",
    "status",
    "origin_platform",
    "origin_chat_id",
    "decided_by_platform",
    "decided_by_id",
    "decided_by_name",
    "decided_by_language",
    "decided_at",
    "reject_reason",
    "status_changed_at",
    "launch_decision",
    "launch_supporters",
    "late_minutes",
    "tap_offered",
    "promote_origin",
    "join_platform",
    "join_url",
    "join_invite",
    "variants",
    "story",
    "picture",
)


def campaign_values(campaign: Campaign, codec: Codec) -> tuple[Any, ...]:
    """The campaign's values in ``CAMPAIGN_COLUMNS`` order (id and version excluded)."""
    origin = campaign.origin_chat
    join = campaign.join_link
    return (
        campaign.ref,
        campaign.title,
        campaign.message,
        campaign.goal,
        codec.time_in(campaign.launch_at),
        ",".join(campaign.networks),
        *_user_in(campaign.organiser),
        codec.time_in(campaign.created_at),
        campaign.status.value,
        origin.platform if origin else None,
        origin.id if origin else None,
        *_user_in(campaign.decided_by),
        codec.time_in(campaign.decided_at),
        campaign.reject_reason,
        codec.time_in(campaign.status_changed_at),
        campaign.launch_decision.value if campaign.launch_decision else None,
        campaign.launch_supporters,
        campaign.late_minutes,
        campaign.tap_offered,
        campaign.promote_origin,
        join.platform if join else None,
        join.url if join else None,
        join.invite if join else False,
        codec.json_in(variants_to_data(campaign.variants)),
        campaign.story,
        campaign.picture,
    )


def campaign_from_row(row: Row, codec: Codec) -> Campaign:
    organiser = _user_out(row, "organiser")
    assert organiser is not None
    origin = (
        ChatRef(row["origin_platform"], row["origin_chat_id"])
        if row["origin_platform"] is not None
        else None
    )
    networks = tuple(_network(name) for name in row["networks"].split(",") if name)
    decision = row["launch_decision"]
    return Campaign(
        ref=row["ref"],
        title=row["title"],
        message=row["message"],
        goal=row["goal"],
        launch_at=_time(codec, row["launch_at"]),
        networks=networks,
        organiser=organiser,
        created_at=_time(codec, row["created_at"]),
        status=CampaignStatus(row["status"]),
        id=row["id"],
        origin_chat=origin,
        decided_by=_user_out(row, "decided_by"),
        decided_at=codec.time_out(row["decided_at"]),
        reject_reason=row["reject_reason"],
        status_changed_at=codec.time_out(row["status_changed_at"]),
        version=row["version"],
        launch_decision=LaunchDecision(decision) if decision is not None else None,
        launch_supporters=row["launch_supporters"],
        late_minutes=row["late_minutes"],
        tap_offered=bool(row["tap_offered"]),
        story=row["story"],
        picture=row["picture"],
        promote_origin=bool(row["promote_origin"]),
        join_link=(
            JoinLink(row["join_platform"], row["join_url"], bool(row["join_invite"]))
            if row["join_platform"] is not None and row["join_url"] is not None
            else None
        ),
        variants=variants_from_data(codec.json_out(row["variants"])),
    )


# cards --------------------------------------------------------------------------------

CARD_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "kind",
    "chat_platform",
    "chat_id",
    "message_id",
    "posted_at",
    "language",
)


def card_values(card: PostedCard, codec: Codec) -> tuple[Any, ...]:
    return (
        card.campaign_id,
        card.kind.value,
        card.message.chat.platform,
        card.message.chat.id,
        card.message.id,
        codec.time_in(card.posted_at),
        card.language,
    )


def card_from_row(row: Row, codec: Codec) -> PostedCard:
    return PostedCard(
        campaign_id=row["campaign_id"],
        kind=CardKind(row["kind"]),
        message=MessageRef(ChatRef(row["chat_platform"], row["chat_id"]), row["message_id"]),
        posted_at=_time(codec, row["posted_at"]),
        language=row["language"],
        id=row["id"],
    )


# accounts -----------------------------------------------------------------------------

ACCOUNT_COLUMNS: tuple[str, ...] = (
    "owner_platform",
    "owner_id",
    "owner_name",
    "owner_language",
    "network",
    "instance",
    "remote_id",
    "handle",
    "followers",
    "access_token",
    "refresh_token",
    "token_expires_at",
    "token_scope",
    "token_binding",
    "linked_at",
    "revoked",
)


def token_values(tokens: TokenSet, codec: Codec) -> tuple[Any, ...]:
    """``access_token, refresh_token, token_expires_at, token_scope, token_binding``,
    secrets encrypted."""
    return (
        codec.seal(tokens.access_token),
        codec.seal(tokens.refresh_token),
        codec.time_in(tokens.expires_at),
        tokens.scope,
        codec.seal(tokens.binding),
    )


def account_values(account: SocialAccount, codec: Codec) -> tuple[Any, ...]:
    return (
        *_user_in(account.owner),
        str(account.network),
        account.instance,
        account.remote_id,
        account.handle,
        follower_count(account.followers),  # again here: no sum of these can overflow
        *token_values(account.tokens, codec),
        codec.time_in(account.linked_at),
        account.revoked,
    )


def account_from_row(row: Row, codec: Codec) -> SocialAccount:
    owner = _user_out(row, "owner")
    assert owner is not None
    access = codec.open(row["access_token"]) if row["access_token"] else ""  # "": erased
    assert access is not None
    return SocialAccount(
        owner=owner,
        network=_network(row["network"]),
        instance=row["instance"],
        remote_id=row["remote_id"],
        handle=row["handle"],
        followers=row["followers"],
        tokens=TokenSet(
            access_token=access,
            refresh_token=codec.open(row["refresh_token"]),
            expires_at=codec.time_out(row["token_expires_at"]),
            scope=row["token_scope"],
            binding=codec.open(row["token_binding"]),
        ),
        linked_at=_time(codec, row["linked_at"]),
        id=row["id"],
        revoked=bool(row["revoked"]),
    )


# pending revocations ------------------------------------------------------------------

# What ``release_tokens`` copies from an account (ciphertext as is: nothing is decrypted).
REVOCATION_COLUMNS: tuple[str, ...] = (
    "account_id",
    "network",
    "instance",
    "access_token",
    "refresh_token",
    "queued_at",
    "token_binding",
)


def revocation_from_row(row: Row, codec: Codec) -> PendingRevocation:
    access = codec.open(row["access_token"])
    assert access is not None
    return PendingRevocation(
        id=row["id"],
        network=_network(row["network"]),
        instance=row["instance"],
        tokens=TokenSet(
            access_token=access,
            refresh_token=codec.open(row["refresh_token"]),
            binding=codec.open(row["token_binding"]),
        ),
        queued_at=_time(codec, row["queued_at"]),
        account_id=row["account_id"],
        attempts=row["attempts"],
        last_attempt_at=codec.time_out(row["last_attempt_at"]),
        last_error=row["last_error"],
    )


# pledges ------------------------------------------------------------------------------

PLEDGE_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "supporter_platform",
    "supporter_id",
    "supporter_name",
    "supporter_language",
    "account_id",
    "network",
    "created_at",
    "message",
    "status",
    "delivery",
    "delivery_mode",
    "failure_reason",
    "remote_post_id",
    "remote_post_url",
    "posted_at",
    "recruited_by",
    "variant",
    "source_chat",
    "source_chat_title",
    "recruit_code",
)

# What the blast writes back for many pledges at once (``record_deliveries``).
DELIVERY_COLUMNS: tuple[str, ...] = (
    "status",
    "delivery",
    "delivery_mode",
    "failure_reason",
    "remote_post_id",
    "remote_post_url",
    "posted_at",
)


def pledge_values(pledge: Pledge, codec: Codec) -> tuple[Any, ...]:
    return (
        pledge.campaign_id,
        *_user_in(pledge.supporter),
        pledge.account_id,
        str(pledge.network),
        codec.time_in(pledge.created_at),
        pledge.message,
        *delivery_values(pledge, codec),
        pledge.recruited_by,
        pledge.variant,
        pledge.source_chat,
        pledge.source_chat_title,
        pledge.recruit_code,
    )


def delivery_values(pledge: Pledge, codec: Codec) -> tuple[Any, ...]:
    """The pledge's values in ``DELIVERY_COLUMNS`` order."""
    return (
        pledge.status.value,
        pledge.delivery.value,
        pledge.delivery_mode.value if pledge.delivery_mode else None,
        pledge.failure_reason,
        pledge.remote_post_id,
        pledge.remote_post_url,
        codec.time_in(pledge.posted_at),
    )


def pledge_from_row(row: Row, codec: Codec) -> Pledge:
    supporter = _user_out(row, "supporter")
    assert supporter is not None
    mode = row["delivery_mode"]
    return Pledge(
        campaign_id=row["campaign_id"],
        supporter=supporter,
        account_id=row["account_id"],
        network=_network(row["network"]),
        created_at=_time(codec, row["created_at"]),
        message=row["message"],
        status=_PLEDGE_STATUSES[row["status"]],
        delivery=_DELIVERY_STATES[row["delivery"]],
        delivery_mode=_DELIVERY_MODES[mode] if mode is not None else None,
        failure_reason=row["failure_reason"],
        remote_post_id=row["remote_post_id"],
        remote_post_url=row["remote_post_url"],
        posted_at=codec.time_out(row["posted_at"]),
        recruited_by=row["recruited_by"],
        variant=row["variant"],
        source_chat=row["source_chat"],
        source_chat_title=row["source_chat_title"],
        recruit_code=row["recruit_code"],
        id=row["id"],
        version=row["version"],
    )


def delivery_head_from_row(row: Row, codec: Codec) -> DeliveryHead:
    """A row of (id, network, delivery, delivery_mode): no Pledge is built, so the launch
    sorts 100,000 of them in a fraction of what loading them would take."""
    mode = row["delivery_mode"]
    return DeliveryHead(
        row["id"],
        _network(row["network"]),
        _DELIVERY_STATES[row["delivery"]],
        None if mode is None else _DELIVERY_MODES[mode],
    )


def supporter_from_row(row: Row, codec: Codec) -> UserRef:
    """The ``supporter_*`` columns of a pledge row."""
    supporter = _user_out(row, "supporter")
    assert supporter is not None
    return supporter


def recruiter_from_row(row: Row, codec: Codec) -> Recruiter:
    return Recruiter(
        key=row["recruiter"], recruited=int(row["recruited"]), since=_time(codec, row["since"])
    )


def status_values(statuses: Sequence[Any] | None) -> list[str] | None:
    """Enum members (or their string values) as plain strings for an ``IN`` filter."""
    if statuses is None:
        return None
    return [str(getattr(status, "value", status)) for status in statuses]


def stats_from_rows(network_rows: Iterable[Row], supporters: int) -> CampaignStats:
    """Fold the per-network rows of the stats query into one ``CampaignStats``;
    ``supporters`` (people) is counted apart, since a person may pledge on each network."""
    totals = dict.fromkeys(("accounts", "reach", "posted", "failed", "posted_reach"), 0)
    by_network: dict[str, int] = {}
    posted_by_network: dict[str, int] = {}
    for row in network_rows:
        for name in totals:
            totals[name] += int(row[name])
        if row["accounts"]:
            by_network[row["network"]] = int(row["accounts"])
        if row["posted"]:
            posted_by_network[row["network"]] = int(row["posted"])
    return CampaignStats(
        supporters=supporters,
        **totals,
        by_network=by_network,
        posted_by_network=posted_by_network,
    )
