"""Recruit codes: each supporter's personal code for a campaign, and who a code names.

A code is derived, never stored: the first 8 base32 characters of a keyed HMAC of the
campaign ref and the supporter key (40 bits: guessing one is hopeless at web speed, and a
guessed code only credits someone else). ``REF_CODE`` is the Telegram ``/start`` payload
(at most 25 characters of ``A-Z0-9_``, well within Telegram's 64). A code is looked up
among the campaign's supporters: only someone who pledged can recruit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from bot.crypto import derive_key
from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from bot.ports import Repository

CODE_LENGTH = 8
_CODE_RE = re.compile(r"[A-Z2-7]{8}")
SEPARATOR = "_"


def well_formed(code: str) -> bool:
    """Whether ``code`` has the shape of a recruit code as links carry it (upper case)."""
    return _CODE_RE.fullmatch(code) is not None


def split_start_payload(payload: str) -> tuple[str, str | None]:
    """``REF_CODE`` as (ref, code); a bare ``REF`` as (ref, None)."""
    ref, _, code = payload.partition(SEPARATOR)
    return ref, code or None


class RecruitCodes:
    def __init__(self, secret: str, repo: Repository) -> None:
        self._key = derive_key(secret, "recruit-codes")
        self._repo = repo

    def code(self, campaign_ref: str, supporter: UserRef) -> str:
        message = f"{campaign_ref}\n{supporter.key}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]

    def start_payload(self, campaign_ref: str, supporter: UserRef) -> str:
        return f"{campaign_ref}{SEPARATOR}{self.code(campaign_ref, supporter)}"

    async def recruiter(self, campaign: Campaign, code: str | None) -> UserRef | None:
        """The supporter of ``campaign`` whose code ``code`` is; None for no code, a
        malformed one, or one that names nobody who pledged to it."""
        wanted = (code or "").strip().upper()
        if campaign.id is None or not _CODE_RE.fullmatch(wanted):
            return None
        seen: set[str] = set()
        for pledge in await self._repo.pledges_of_campaign(campaign.id):
            if pledge.supporter.key in seen:
                continue
            seen.add(pledge.supporter.key)
            if hmac.compare_digest(self.code(campaign.ref, pledge.supporter), wanted):
                return pledge.supporter
        return None
