"""``/status REF``: what the public page shows, as a chat message anyone may ask for.

Same data as the page (``PublicPages``): title, figures, time left or the outcome, the
page link and the top recruiters (named with their consent, else "Supporter #n"). A
campaign that is not public answers exactly like an unknown one.

It reads only what it shows: the campaign and its figures without post links (the page
shows a launched campaign's first posts; ``/status`` never does). The figures cache keeps
the two apart, so asking for the posts turned the launch itself into a cache miss: the
first ``/status`` after it waited for the aggregates over every pledge, just as the report
read them all (60-200 ms in ``benchmarks/replies.py``, the slowest reply of the run).
Without posts, ``/status`` shares the figures it used before the launch until a change to
the pledges forgets them, as every view does.
"""

from __future__ import annotations

from bot.domain.campaign import Campaign, CampaignStatus, normalise_ref
from bot.domain.errors import NotFound
from bot.domain.outgoing import OutgoingMessage
from bot.domain.text import Text, t
from bot.ports import Clock
from bot.services.cards import figures, time_left
from bot.services.figures import ShownFigures
from bot.services.public_pages import Hidden, PublicPages
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
        found = await self._find(ref)
        if found is None:
            raise NotFound("status_command.unknown", ref=normalise_ref(ref)[:SHOWN_REF_MAX])
        campaign, shown = found
        parts = [
            t("card.title", title=campaign.title, ref=campaign.ref),
            t("card.launch", launch_at=campaign.launch_at),
            figures(campaign, shown.stats),
        ]
        if campaign.status is CampaignStatus.LIVE:
            parts.append(time_left(campaign, self._clock.now()))
        else:
            parts.append(t(f"card.status_{campaign.status.value}"))
        return OutgoingMessage((*parts, *self._public_lines(campaign, shown)))

    async def page_lines(self, ref: str) -> tuple[Text, ...]:
        """The page link and top recruiters of a public campaign; nothing for another."""
        found = await self._find(ref)
        return () if found is None else self._public_lines(*found)

    async def _find(self, ref: str) -> tuple[Campaign, ShownFigures] | None:
        """The public campaign ``ref`` and its figures without post links, or None."""
        campaign = await self._pages.find(ref)
        if isinstance(campaign, Hidden):
            return None
        assert campaign.id is not None
        return campaign, await self._pages.figures.shown(campaign.id)

    def _public_lines(self, campaign: Campaign, shown: ShownFigures) -> tuple[Text, ...]:
        return public_lines(self._pages.page_url(campaign.ref), shown.recruiters)


def public_lines(page_url: str, recruiters: tuple[ShownRecruiter, ...]) -> tuple[Text, ...]:
    lines = [t("status_command.page", url=page_url)]
    if recruiters:
        lines.append(t("status_command.recruiters"))
        lines.extend(recruiter_line(r) for r in recruiters)
    return tuple(lines)
