"""Short, signed, expiring links to a tap pledge's compose screen.

A compose URL with a 280-character message URL-encodes to well over a thousand
characters, longer than chat platforms accept in a button. Tap messages carry our own
short link instead (``{PUBLIC_URL}/tap/{token}``); the pledge site turns it into a
redirect to the network's compose screen. The token names only the pledge and an
expiry, is signed with a key of its own (derived from SECRET_KEY), and may be opened
any number of times until it expires: a supporter may tap twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from bot.crypto import derive_key
from bot.domain.campaign import Campaign
from bot.domain.errors import DomainError
from bot.domain.pledge import Pledge
from bot.ports import Clock

# How long after the report moment (launch + TAP_READBACK_MINUTES) a link still works;
# it also covers a launch that went out late (at most LAUNCH_GRACE_MINUTES).
TAP_LINK_MARGIN = timedelta(hours=6)


@dataclass(frozen=True)
class TapTicket:
    """What a valid tap link says: which pledge, until when."""

    pledge_id: int
    expires_at: datetime


class TapLinks:
    """Issues and reads the tap links of one Chorus (its secret and public address)."""

    def __init__(
        self,
        secret: str,
        clock: Clock,
        public_url: str,
        readback: timedelta,
        margin: timedelta = TAP_LINK_MARGIN,
    ) -> None:
        self._serializer = URLSafeSerializer(derive_key(secret, "tap-links").hex(), salt="tap")
        self._clock = clock
        self._public_url = public_url.rstrip("/")
        self._valid_after_launch = readback + margin

    def expiry(self, campaign: Campaign) -> datetime:
        """When the links of ``campaign`` stop working: report moment plus the margin."""
        return campaign.launch_at + self._valid_after_launch

    def issue(self, campaign: Campaign, pledge: Pledge) -> str:
        """The token for ``pledge`` (the same for every message of one campaign)."""
        if pledge.id is None:
            raise ValueError("a tap link needs a stored pledge")
        expires = int(self.expiry(campaign).timestamp())
        return str(self._serializer.dumps({"p": pledge.id, "x": expires}))

    def url(self, campaign: Campaign, pledge: Pledge) -> str:
        """The short link a tap message carries."""
        return f"{self._public_url}/tap/{self.issue(campaign, pledge)}"

    def read(self, token: str) -> TapTicket:
        """Check signature and expiry: ``web.tap.invalid`` or ``web.tap.expired``."""
        try:
            data = self._serializer.loads(token)
            ticket = TapTicket(
                pledge_id=int(data["p"]), expires_at=datetime.fromtimestamp(int(data["x"]), UTC)
            )
        except (BadSignature, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DomainError("web.tap.invalid") from exc
        if ticket.expires_at <= self._clock.now():
            raise DomainError("web.tap.expired")
        return ticket
