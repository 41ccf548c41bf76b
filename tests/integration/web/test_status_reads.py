"""``/status`` after a launch reads figures, not the campaign's pledge rows.

The benchmark of replies while a blast runs (README, "Replies while a blast runs") found
``/status`` going unanswered while supporters were told their results: once a campaign is
launched, ``PublicPages.show`` loaded every posted pledge (10,000 rows decoded, the SQLite
connection held meanwhile) for the page's few post links, which ``/status`` never shows.
Here the statements SQLite runs while ``/status`` is answered are recorded (the
connection's own trace callback): none may read the pledges table row by row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from storage.sqlite import SqliteRepository
from tests.fakes.pledge_site import PledgeSite, start_site


@pytest.fixture
async def site(repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(repo)
    try:
        yield running
    finally:
        await running.close()


async def test_status_of_a_launched_campaign_reads_no_pledge_rows(site: PledgeSite) -> None:
    assert isinstance(site.repo, SqliteRepository)
    campaign = await site.launched(await site.campaign(goal=2), posts=7)
    statements: list[str] = []
    await site.repo._db.set_trace_callback(statements.append)

    answer = await site.core.chat.status.status(campaign.ref)

    await site.repo._db.set_trace_callback(None)
    assert statements  # the figures were read
    row_reads = [s for s in statements if s.lstrip().upper().startswith("SELECT * FROM PLEDGES")]
    assert row_reads == []
    text = "\n".join(render(part, "en") for part in answer.parts)
    assert render(t("card.status_launched"), "en") in text
