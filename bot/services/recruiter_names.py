"""Top recruiters as people see them: named only when the recruiter agreed, otherwise
"Supporter #n" (their rank), on the public page and in ``/status`` alike.

Consent is per person and per campaign, anonymous by default. A chat supporter toggles it
with the button on their pledge confirmation and is shown by their chat display name; a
web supporter types the name to show (a web identity's internal id is never shown).
Withdrawing from the campaign or ``/forget`` erases it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.campaign import Campaign, normalise_ref
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.pledge import PledgeStatus
from bot.domain.recruits import Recruiter
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.ports import Repository

if TYPE_CHECKING:
    from bot.services.figures import FiguresCache
    from bot.services.pledges import PledgeService

RECRUITERS_SHOWN = 3
NAME_MAX = 40
CONSENT_ACTION = "rname"


@dataclass(frozen=True)
class ShownRecruiter:
    """One of the top recruiters: ``name`` is None for one who stays anonymous."""

    rank: int
    recruited: int
    name: str | None = None


def shown_recruiters(
    recruiters: Sequence[Recruiter], names: Mapping[str, str], limit: int = RECRUITERS_SHOWN
) -> tuple[ShownRecruiter, ...]:
    """The first ``limit`` recruiters (``Repository.recruiters``, most people brought
    first), named with consent (``names``: ``Repository.recruiter_names``)."""
    return tuple(
        ShownRecruiter(rank, r.recruited, names.get(r.key))
        for rank, r in enumerate(recruiters[:limit], start=1)
    )


def clean_name(text: str) -> str | None:
    """A name fit to show: no control or format characters, spaces collapsed, at most
    ``NAME_MAX`` characters; None when nothing is left."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(kept.split())[:NAME_MAX].strip()
    return name or None


def consent_button(ref: str, named: bool) -> Button:
    """The toggle offered with a chat supporter's recruit link."""
    key = "recruiter.button_anonymous" if named else "recruiter.button_named"
    return Button(t(key), action=f"{CONSENT_ACTION}:{ref}")


class RecruiterConsent:
    def __init__(
        self, repo: Repository, pledges: PledgeService, figures: FiguresCache | None = None
    ) -> None:
        """``figures``: the shown figures, forgotten when a name changes."""
        self._repo = repo
        self._pledges = pledges
        self._figures = figures

    def _renamed(self, campaign_id: int) -> None:
        if self._figures is not None:
            self._figures.forget(campaign_id)

    async def _supported(self, ref: str, supporter: UserRef) -> Campaign:
        """The campaign ``ref`` if ``supporter`` has a standing pledge to it."""
        campaign = await self._repo.find_campaign(normalise_ref(ref))
        if campaign is not None and campaign.id is not None:
            for pledge in await self._repo.pledges_of_supporter(supporter):
                if pledge.campaign_id == campaign.id and pledge.status is not (
                    PledgeStatus.WITHDRAWN
                ):
                    return campaign
        raise NotFound("recruiter.no_pledge", ref=normalise_ref(ref)[:16] or "?")

    async def toggle(self, ref: str, supporter: UserRef) -> tuple[Campaign, bool]:
        """Switch between named (by the chat display name) and anonymous; return the
        campaign and whether the supporter is named now."""
        campaign = await self._supported(ref, supporter)
        assert campaign.id is not None
        if await self._repo.unname_recruiter(campaign.id, supporter.key):
            self._renamed(campaign.id)
            return campaign, False
        name = clean_name(supporter.name)
        if name is None:
            raise InvalidInput("recruiter.no_name")
        await self._repo.name_recruiter(campaign.id, supporter.key, name)
        self._renamed(campaign.id)
        return campaign, True

    async def toggle_message(self, ref: str, supporter: UserRef) -> OutgoingMessage:
        """Toggle, then what replaces the pressed message: the new state, the recruit link
        again, and the buttons (the toggle now says the other way)."""
        campaign, named = await self.toggle(ref, supporter)
        if named:
            state = t("recruiter.now_named", title=campaign.title, name=clean_name(supporter.name))
        else:
            state = t("recruiter.now_anonymous", title=campaign.title)
        url = self._pledges.recruit_url(campaign, supporter)
        return OutgoingMessage.of(
            state,
            t("supporter.recruit_link", url=url),
            buttons=await self._pledges.recruit_buttons(campaign, supporter),
        )

    async def choose(self, ref: str, supporter: UserRef, name: str | None) -> str | None:
        """A web supporter's choice: shown as ``name`` or, with None or a blank, anonymous.
        Returns the name kept."""
        campaign = await self._supported(ref, supporter)
        assert campaign.id is not None
        if name is not None and len(name) > NAME_MAX * 4:
            raise InvalidInput("recruiter.name_too_long", max=NAME_MAX)
        if name is None:
            await self._repo.unname_recruiter(campaign.id, supporter.key)
            self._renamed(campaign.id)
            return None
        cleaned = clean_name(name)
        if cleaned is None:
            raise InvalidInput("recruiter.name_blank")
        await self._repo.name_recruiter(campaign.id, supporter.key, cleaned)
        self._renamed(campaign.id)
        return cleaned

    async def name_of(self, campaign_id: int, supporter: UserRef) -> str | None:
        return (await self._repo.recruiter_names(campaign_id)).get(supporter.key)
