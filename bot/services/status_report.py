"""``/status REF``: what the public page shows, as a chat message anyone may ask for.

Same data as the page (``PublicPages.show``): title, figures, time left or the outcome,
the page link and the top recruiters (named with their consent, else "Supporter #n").
A campaign that is not public answers exactly like an unknown one.
"""

from __future__ import annotations

from bot.domain.campaign import CampaignStatus, normalise_ref
from bot.domain.errors import NotFound
from bot.domain.outgoing import OutgoingMessage
from bot.domain.text import Text, t
from bot.ports import Clock
from bot.services.cards import figures, time_left
from bot.services.public_pages import Hidden, PublicCampaign, PublicPages
from bot.services.recruiter_names import ShownRecruiter

SHOWN_REF_MAX = 16


def recruiter_line(shown: ShownRecruiter) -> Text:
    if shown.name is None:
        return t("recruiter.line_anonymous", rank=shown.rank, brought=shown.recruited)
    return t("recruiter.line_named", rank=shown.rank, name=shown.name, brought=shown.recruited)


class StatusReport:
    def __init__(self, pages: PublicPages, clock: Clock) -> None:
        self._pages = pages
        self._clock = clock

    async def status(self, ref: str) -> OutgoingMessage:
        shown = await self._pages.show(ref)
        if isinstance(shown, Hidden):
            raise NotFound("status_command.unknown", ref=normalise_ref(ref)[:SHOWN_REF_MAX])
        campaign = shown.campaign
        parts = [
            t("card.title", title=campaign.title, ref=campaign.ref),
            t("card.launch", launch_at=campaign.launch_at),
            figures(campaign, shown.stats),
        ]
        if campaign.status is CampaignStatus.LIVE:
            parts.append(time_left(campaign, self._clock.now()))
        else:
            parts.append(t(f"card.status_{campaign.status.value}"))
        return OutgoingMessage((*parts, *public_lines(shown)))

    async def page_lines(self, ref: str) -> tuple[Text, ...]:
        """The page link and top recruiters of a public campaign; nothing for another."""
        shown = await self._pages.show(ref)
        return () if isinstance(shown, Hidden) else public_lines(shown)


def public_lines(shown: PublicCampaign) -> tuple[Text, ...]:
    lines = [t("status_command.page", url=shown.page_url)]
    if shown.recruiters:
        lines.append(t("status_command.recruiters"))
        lines.extend(recruiter_line(r) for r in shown.recruiters)
    return tuple(lines)
