"""``/readyz`` and ``/metrics`` over real HTTP, on SQLite and on PostgreSQL: ready only with
the database answering at the expected schema, reasons in JSON otherwise, no secret shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.crypto import TokenCipher
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.role import Role
from bot.web import operations
from storage import open_repository
from tests.fakes.pledge_site import PledgeSite, start_site
from tests.integration.conftest import postgres_url

METRICS_TOKEN = "metrics-token-not-real-0123456789"


@pytest.fixture
async def ops_site(any_repo: Repository) -> AsyncIterator[PledgeSite]:
    running = await start_site(any_repo)
    await running.core.succession.start()  # alone, it leads at once, as `chorus run` does
    try:
        yield running
    finally:
        await running.core.succession.stop()
        await running.close()


async def get_json(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def get_text(url: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_ready_names_the_role_and_the_schema(ops_site: PledgeSite) -> None:
    status, body = await get_json(f"{ops_site.url}/readyz")

    assert status == 200, body
    assert body["ready"] is True and body["role"] == "leader" and body["reasons"] == []
    assert body["schema"]["applied"] == body["schema"]["known"] > 0


async def test_a_follower_is_ready_too_and_says_so(ops_site: PledgeSite) -> None:
    ops_site.core.role.set(Role.FOLLOWER)
    status, body = await get_json(f"{ops_site.url}/readyz")
    assert (status, body["role"]) == (200, "follower")


async def test_not_ready_while_migrations_are_behind(ops_site: PledgeSite) -> None:
    async with ops_site.repo.transaction() as db:  # type: ignore[attr-defined]
        await db.execute(
            "DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version)"
        )

    status, body = await get_json(f"{ops_site.url}/readyz")

    assert status == 503 and body["ready"] is False
    known = body["schema"]["known"]
    assert body["schema"]["applied"] == known - 1
    assert body["reasons"] == [
        f"migrations not applied: the database is at {known - 1}, "
        f"this code expects {known} (run chorus migrate)"
    ]


async def test_not_ready_when_the_database_is_gone(ops_site: PledgeSite) -> None:
    await ops_site.repo.close()

    status, body = await get_json(f"{ops_site.url}/readyz")

    assert status == 503 and body["schema"] is None
    [reason] = body["reasons"]
    assert reason.startswith("database unreachable (") and reason.endswith(")")
    # healthz only says the process answers
    assert (await get_text(f"{ops_site.url}/healthz")) == (200, "ok")


async def test_not_ready_once_draining(ops_site: PledgeSite) -> None:
    ops_site.core.role.drain()
    status, body = await get_json(f"{ops_site.url}/readyz")
    assert (status, body["reasons"]) == (503, ["shutting down"])


@pytest.mark.postgres
async def test_a_database_that_does_not_answer_in_time_is_not_ready(
    postgres_schema_url: str, cipher: TokenCipher
) -> None:
    """Another session holds the version table locked: the bounded query gives up."""
    repo = await open_repository(postgres_schema_url, cipher)
    await repo.migrate()
    site = await start_site(repo, readiness_timeout_seconds=0.2)
    schema = postgres_schema_url.rsplit("schema=", 1)[1]
    blocker = await asyncpg.connect(postgres_url())
    try:
        async with blocker.transaction():
            await blocker.execute(f'LOCK TABLE "{schema}".schema_version IN ACCESS EXCLUSIVE MODE')
            status, body = await get_json(f"{site.url}/readyz")
        assert status == 503
        assert body["reasons"] == ["database did not answer within 0.2 s"]
        assert "postgres" not in str(body)  # no address, no user
        status, body = await get_json(f"{site.url}/readyz")  # the lock is gone
        assert status == 200, body
    finally:
        await blocker.close()
        await site.close()
        await repo.close()


async def test_metrics_count_pledges_queue_requests_and_leader(ops_site: PledgeSite) -> None:
    campaign = await ops_site.campaign()
    for n in range(3):
        await ops_site.pledge(campaign, UserRef("test", f"70{n}", f"Fan {n}", "en"))
    launching = await ops_site.campaign(status=CampaignStatus.LIVE)
    await ops_site.pledge(launching, UserRef("test", "800", "Late", "en"))
    await ops_site.repo.decide_launch(launching.id or 0, launching.launch_at)
    async with aiohttp.ClientSession() as session:
        async with session.get(ops_site.link(campaign)) as response:
            assert response.status == 200
        async with session.get(f"{ops_site.url}/nowhere") as response:
            assert response.status == 404

    status, text = await get_text(f"{ops_site.url}/metrics")

    assert status == 200
    found = samples(text)
    assert found[("chorus_pledges", frozenset({("status", "pledged")}))] == 4
    assert found[("chorus_pledges", frozenset({("status", "posted")}))] == 0
    assert found[("chorus_blast_queue_depth", frozenset())] == 1
    assert found[("chorus_leader", frozenset())] == 1
    page = frozenset({("route", "/pledge/{token}"), ("status", "200")})
    assert found[("chorus_web_requests_total", page)] == 1
    lost = frozenset({("route", "unmatched"), ("status", "404")})
    assert found[("chorus_web_requests_total", lost)] == 1
    token = ops_site.link(campaign).rsplit("/", 1)[1]
    assert token not in text  # routes are patterns, never paths


async def test_metrics_token_is_required_when_set(repo: Repository) -> None:
    site = await start_site(repo, metrics_token=METRICS_TOKEN)
    try:
        assert (await get_text(f"{site.url}/metrics"))[0] == 401
        wrong = await get_text(f"{site.url}/metrics", Authorization="Bearer nope")
        assert wrong[0] == 401
        basic = await get_text(f"{site.url}/metrics", Authorization=f"Basic {METRICS_TOKEN}")
        assert basic[0] == 401
        status, text = await get_text(
            f"{site.url}/metrics", Authorization=f"Bearer {METRICS_TOKEN}"
        )
        assert status == 200 and "chorus_leader" in text
        assert METRICS_TOKEN not in text
    finally:
        await site.close()


async def test_metrics_still_served_when_the_database_is_gone(ops_site: PledgeSite) -> None:
    await ops_site.repo.close()
    status, text = await get_text(f"{ops_site.url}/metrics")
    assert status == 200 and "chorus_leader 1.0" in text


async def test_several_probes_at_once_all_answer(ops_site: PledgeSite) -> None:
    """Probes are plain reads (no lock, no write): they do not queue behind each other."""
    results = await asyncio.gather(*(get_json(f"{ops_site.url}/readyz") for _ in range(5)))
    assert [status for status, _ in results] == [200] * 5


async def test_a_flood_of_scrapes_reads_the_counts_once_per_interval(
    ops_site: PledgeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "COUNTS_FRESH_SECONDS", 3600.0)
    campaign = await ops_site.campaign()
    await ops_site.pledge(campaign, UserRef("test", "901", "One", "en"))
    pledged = ("chorus_pledges", frozenset({("status", "pledged")}))
    first = samples((await get_text(f"{ops_site.url}/metrics"))[1])
    await ops_site.pledge(campaign, UserRef("test", "902", "Two", "en"))
    texts = await asyncio.gather(*(get_text(f"{ops_site.url}/metrics") for _ in range(5)))

    assert first[pledged] == 1
    assert [samples(text)[pledged] for _, text in texts] == [1] * 5  # not read again

    monkeypatch.setattr(operations, "COUNTS_FRESH_SECONDS", 0.0)
    assert samples((await get_text(f"{ops_site.url}/metrics"))[1])[pledged] == 2
