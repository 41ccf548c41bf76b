"""Signed, single-use, expiring pledge links.

The token names a campaign and a supporter and carries an expiry checked against our
clock; its nonce is consumed once when the pledge is recorded, so a forwarded or
replayed link cannot pledge twice.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from bot.crypto import derive_key
from bot.domain.campaign import Campaign, normalise_ref
from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from bot.ports import Clock, Repository
from bot.services.sources import TITLE_KEPT, ChatSource

DECODED_KEPT = 4096  # links whose decoded ticket is kept (a refused link raises: never kept)


@dataclass(frozen=True)
class PledgeTicket:
    """What a valid pledge link says: who may pledge to which campaign, until when."""

    campaign_ref: str
    supporter: UserRef
    nonce: str
    expires_at: datetime
    recruited_by: str | None = None  # the supporter key of who brought them, checked
    source_chat: str | None = None  # "platform:id" of the chat whose card they came from
    source_chat_title: str | None = None  # that chat's title, when known


class PledgeLinks:
    def __init__(self, secret: str, repo: Repository, clock: Clock, ttl: timedelta) -> None:
        self._serializer = URLSafeSerializer(
            derive_key(secret, "pledge-links").hex(), salt="pledge"
        )
        self._repo = repo
        self._clock = clock
        self._ttl = ttl
        # a link is read on its page, its form and its callback: its signature is checked
        # once (only links we signed are kept; expiry and use are checked on every read)
        self._decoded = functools.lru_cache(maxsize=DECODED_KEPT)(self._decode_signed)

    def issue(
        self,
        campaign_ref: str,
        supporter: UserRef,
        recruited_by: str | None = None,
        source: ChatSource | None = None,
    ) -> str:
        expires = self._clock.now() + self._ttl
        payload: dict[str, str | int] = {
            "c": campaign_ref,
            "p": supporter.platform,
            "u": supporter.id,
            "n": supporter.name[:64],
            "l": supporter.language,
            "x": int(expires.timestamp()),
            "r": secrets.token_urlsafe(12),
        }
        if recruited_by is not None:
            payload["v"] = recruited_by
        if source is not None:
            payload["s"] = source.key
            if source.title:
                payload["t"] = source.title[:TITLE_KEPT]
        return str(self._serializer.dumps(payload))

    def read(self, token: str) -> PledgeTicket:
        """Check signature and expiry (not use): ``link.invalid`` or ``link.expired``."""
        ticket = self._decode(token)
        if ticket.expires_at <= self._clock.now():
            raise DomainError("link.expired")
        return ticket

    def signed(self, token: str) -> PledgeTicket | None:
        """What a link we signed says, even once expired (to word a refusal); else None."""
        try:
            return self._decode(token)
        except DomainError:
            return None

    def _decode(self, token: str) -> PledgeTicket:
        """The ticket of a link with our signature (``link.invalid`` if not); expiry unchecked."""
        return self._decoded(token)

    def _decode_signed(self, token: str) -> PledgeTicket:
        try:
            data = self._serializer.loads(token)
            if not canonical_signature(token):
                raise BadSignature("the signature has spare bits set")
            expires = datetime.fromtimestamp(int(data["x"]), UTC)
            ticket = PledgeTicket(
                campaign_ref=str(data["c"]),
                supporter=UserRef(str(data["p"]), str(data["u"]), str(data["n"]), str(data["l"])),
                nonce=str(data["r"]),
                expires_at=expires,
                recruited_by=str(data["v"]) if "v" in data else None,
                source_chat=str(data["s"]) if "s" in data else None,
                source_chat_title=str(data["t"]) if "t" in data else None,
            )
        except (BadData, KeyError, TypeError, ValueError) as exc:
            raise DomainError("link.invalid") from exc
        return ticket

    async def open(self, token: str) -> PledgeTicket:
        """``read`` plus a check that the link was not used yet (``link.used``)."""
        ticket = self.read(token)
        if await self._repo.nonce_used(ticket.nonce):
            raise DomainError("link.used")
        return ticket

    async def open_with_campaign(self, token: str) -> tuple[PledgeTicket, Campaign | None]:
        """``open``, and the campaign the link names (None if there is none), read with the
        nonce in one go."""
        ticket = self.read(token)
        used, campaign = await self._repo.nonce_and_campaign(
            ticket.nonce, normalise_ref(ticket.campaign_ref)
        )
        if used:
            raise DomainError("link.used")
        return ticket, campaign

    async def redeem(self, ticket: PledgeTicket) -> None:
        """Use the link up; ``link.used`` if it was used before."""
        if not await self._repo.consume_nonce(ticket.nonce, ticket.expires_at):
            raise DomainError("link.used")


def canonical_signature(token: str) -> bool:
    """Whether the signature is written the one way base64 writes it.

    Its last character carries spare bits that decoding ignores, so without this check
    three other spellings of a link would be accepted as the same link.
    """
    signature = token.rpartition(".")[2]
    return base64_encode(base64_decode(signature)).decode("ascii") == signature
