"""One pledge through the site costs a bounded number of SQL statements (a count, not a
timing): each one is a trip to the database's thread, and the flow used to spend 17
transactions (BEGIN … COMMIT around almost every statement) on one pledge."""

from __future__ import annotations

import aiohttp

from bot.ports import Repository
from storage.sqlite import SqliteRepository
from tests.fakes.pledge_site import PledgeSite
from tests.integration.web.test_pledge_flow import pledge

CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


async def test_one_pledge_runs_few_statements_and_no_transaction_control(
    repo: Repository, site: PledgeSite, browser: aiohttp.ClientSession
) -> None:
    assert isinstance(repo, SqliteRepository)
    campaign = await site.campaign()
    seen: list[str] = []
    await repo._db.set_trace_callback(seen.append)
    try:
        status, html, _ = await pledge(browser, site.link(campaign), "x")
    finally:
        await repo._db.set_trace_callback(None)
    assert status == 200, html
    control = [sql for sql in seen if sql in CONTROL]
    statements = len(seen) - len(control)
    # alone in autocommit, except the page's figures (two reads, one transaction)
    assert control == ["BEGIN", "COMMIT"], control
    # the page 4, the form 3, the callback 10 and a card refresh's read, which may come
    # in time or not (the flow used to run 21 statements in 17 transactions)
    assert statements <= 18, seen
