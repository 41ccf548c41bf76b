"""A blast adds its posts (by network and outcome), its duration and its lag to the metrics."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.domain.outcomes import OutcomeKind
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.unit.blast.harness import make_world


def samples(exposition: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition.decode())
        for sample in family.samples
    }


async def test_posts_by_network_and_outcome_and_one_blast_observed(
    repo: Repository, clock: FakeClock
) -> None:
    world = await make_world(repo, clock)
    campaign = await world.campaign()
    for _ in range(3):
        await world.supporter(campaign)
    _, refused = await world.supporter(campaign)
    world.mastodon.script_kind(refused.id or 0, OutcomeKind.REJECTED)

    await world.go(campaign.launch_at)

    found = samples(world.core.metrics.exposition())
    posted = frozenset({("network", "mastodon"), ("outcome", "posted")})
    rejected = frozenset({("network", "mastodon"), ("outcome", "rejected")})
    assert found[("chorus_posts_total", posted)] == 3
    assert found[("chorus_posts_total", rejected)] == 1
    assert found[("chorus_blast_duration_seconds_count", frozenset())] == 1
    assert found[("chorus_blast_lag_seconds_count", frozenset())] == 1
    assert found[("chorus_blast_lag_seconds_sum", frozenset())] >= 0
    labels = {label for (_, pairs) in found for label, _ in pairs}
    assert labels <= {"network", "outcome", "le", "status", "route"}  # no campaign, no person
