"""Recruit codes: each supporter's personal code for a campaign, and who a code names.

A code is derived: the first 8 base32 characters of a keyed HMAC of the campaign ref and
the supporter key (40 bits: guessing one is hopeless at web speed, and a guessed code only
credits someone else). ``REF_CODE`` is the Telegram ``/start`` payload (at most 25
characters of ``A-Z0-9_``, well within Telegram's 64). Only someone who pledged can
recruit: a code is looked up among the campaign's pledges.

Why the code is stored with each pledge: every public page view with a ``via`` code, every
web pledge and every chat pledge with a code asks who the code names. Deriving every
supporter's code to find out cost a read of all the campaign's pledges and one HMAC per
supporter per request, which anyone could trigger with made-up codes. The pledge flow sets
``Pledge.recruit_code`` when it stores a pledge, so the lookup is one indexed query.
"""

from __future__ import annotations

import base64
import hmac
import re

from bot.crypto import derive_key
from bot.domain.campaign import Campaign
from bot.domain.refs import UserRef
from bot.ports import Repository

CODE_LENGTH = 8
CODE_BYTES = CODE_LENGTH * 5 // 8  # the digest's bytes base32 writes as the code
FILL_BATCH = 1000  # pledges coded per round trip when older ones have no code
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
        digest = hmac.digest(self._key, message, "sha256")  # one-shot, in C
        # base32 writes each 5 bytes as 8 characters: the code's 8 are the first 5 bytes'
        return base64.b32encode(digest[:CODE_BYTES]).decode("ascii")

    def start_payload(self, campaign_ref: str, supporter: UserRef) -> str:
        return f"{campaign_ref}{SEPARATOR}{self.code(campaign_ref, supporter)}"

    async def recruiter(self, campaign: Campaign, code: str | None) -> UserRef | None:
        """The supporter of ``campaign`` whose code ``code`` is; None for no code, a
        malformed one, or one that names nobody who pledged to it (pledges of any status:
        a withdrawn supporter still recruits; ``/forget`` deletes the rows, and the codes).

        An index lookup, no constant-time comparison: the code is no secret from the
        people it is shared with (it is in the supporter's public links) and earns only the
        credit for a recruit. What stops a stranger from hitting one is the 2**40 codes
        per campaign against a rate-limited way in; how long an index lookup takes can at
        most hint at how the stored codes sort, which does not make an exact hit likelier.

        Pledges stored with no code (before the code was stored, or by a writer that sets
        none) are coded here on a miss, a batch at a time, then the code is looked up once
        more: this runs once per such row, needs no start-up pass over every campaign nor
        any coordination between processes, and heals whatever writer forgot it.
        """
        wanted = (code or "").strip().upper()
        if campaign.id is None or not well_formed(wanted):
            return None
        found = await self._repo.supporter_by_recruit_code(campaign.id, wanted)
        if found is None and await self._code_missing(campaign):
            found = await self._repo.supporter_by_recruit_code(campaign.id, wanted)
        return found

    async def _code_missing(self, campaign: Campaign) -> bool:
        """Store the code of every pledge of ``campaign`` that has none; whether any had."""
        assert campaign.id is not None
        coded = False
        while batch := await self._repo.pledges_without_recruit_code(campaign.id, FILL_BATCH):
            await self._repo.set_recruit_codes(
                {pledge_id: self.code(campaign.ref, who) for pledge_id, who in batch}
            )
            coded = True
            if len(batch) < FILL_BATCH:
                break
        return coded
