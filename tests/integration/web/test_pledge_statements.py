"""One pledge through the site costs a bounded number of trips to the database (a count,
not a timing): each trip to aiosqlite's thread and back costs the loop more than the SQL
itself, and the flow used to spend 55 of them (21 statements, most wrapped in BEGIN and
COMMIT: 17 transactions) on one pledge."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.ports import Repository
from storage.sqlite import SqliteRepository
from tests.fakes.pledge_site import PledgeSite
from tests.integration.web.test_pledge_flow import pledge

CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


async def test_one_pledge_takes_few_trips_to_the_database(
    repo: Repository,
    site: PledgeSite,
    browser: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(repo, SqliteRepository)
    campaign = await site.campaign()
    seen: list[str] = []
    trips = 0
    run = repo._db._execute

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await run(*args, **kwargs)

    monkeypatch.setattr(repo._db, "_execute", counted)
    await repo._db.set_trace_callback(seen.append)
    try:
        status, html, _ = await pledge(browser, site.link(campaign), "x")
    finally:
        await repo._db.set_trace_callback(None)
        monkeypatch.undo()
    assert status == 200, html
    control = [sql for sql in seen if sql in CONTROL]
    # no write transaction: each write is one statement alone; the reads that belong
    # together share a read transaction opened and closed on the database's thread, in
    # the same trip: the link's nonce and campaign (page, form), the page's figures, what
    # admits the pledge, the consent and count after it
    assert control == ["BEGIN", "COMMIT"] * 5, control
    # the page 2, the form 2 (and the OAuth state stored), the callback 6 (the state
    # taken, the admission reads with the campaign, the nonce used, the account, the
    # pledge, the recruiter's consent with the new count), a card refresh's reads (0 to
    # 2, as they land) and the trace callback's own set and unset
    assert trips <= 14, seen
