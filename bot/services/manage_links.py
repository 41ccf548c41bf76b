"""Signed manage links: a web supporter's private way back to their pledge.

Someone who pledged from the public page has no chat to send ``/unpledge`` or ``/forget``
in, so the thank-you page gives them a link naming their web identity and the campaign.
It is signed with its own key (``manage-links``) and expires some days after the launch;
unlike a pledge link it may be used many times, since it only shows or removes what its
holder owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, BadSignature, URLSafeSerializer

from bot.crypto import derive_key
from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from bot.ports import Clock
from bot.services.links import canonical_signature

MANAGE_GRACE = timedelta(days=30)  # how long after the launch the link still opens


@dataclass(frozen=True)
class ManageTicket:
    """What a valid manage link says: whose pledges, to which campaign, until when."""

    campaign_ref: str
    supporter: UserRef
    expires_at: datetime


class ManageLinks:
    def __init__(self, secret: str, clock: Clock, public_url: str) -> None:
        self._serializer = URLSafeSerializer(
            derive_key(secret, "manage-links").hex(), salt="manage"
        )
        self._clock = clock
        self._public_url = public_url.rstrip("/")

    def issue(self, campaign: Campaign, supporter: UserRef) -> str:
        expires = campaign.launch_at + MANAGE_GRACE
        payload = {
            "c": campaign.ref,
            "u": supporter.id,
            "n": supporter.name[:64],
            "l": supporter.language,
            "x": int(expires.timestamp()),
        }
        return str(self._serializer.dumps(payload))

    def url(self, campaign: Campaign, supporter: UserRef) -> str:
        return f"{self._public_url}/manage/{self.issue(campaign, supporter)}"

    def read(self, token: str, platform: str) -> ManageTicket:
        """Check signature and expiry: ``web.manage.invalid`` or ``expired``; the
        supporter is on ``platform`` (the web identities' platform)."""
        try:
            data = self._serializer.loads(token)
            if not canonical_signature(token):
                raise BadSignature("the signature has spare bits set")
            ticket = ManageTicket(
                campaign_ref=str(data["c"]),
                supporter=UserRef(platform, str(data["u"]), str(data["n"]), str(data["l"])),
                expires_at=datetime.fromtimestamp(int(data["x"]), UTC),
            )
        except (BadData, KeyError, TypeError, ValueError) as exc:
            raise DomainError("web.manage.invalid") from exc
        if ticket.expires_at <= self._clock.now():
            raise DomainError("web.manage.expired")
        return ticket
