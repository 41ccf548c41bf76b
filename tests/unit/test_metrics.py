"""The metrics facade: Prometheus' text format, bounded labels, one registry per process."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.domain.operations import PledgeCounts
from bot.metrics import Metrics


def families(metrics: Metrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_state_gauges_and_counters_parse() -> None:
    metrics = Metrics()
    metrics.observe_state(
        PledgeCounts({"pledged": 5, "posted": 2, "failed": 0, "withdrawn": 1}, queued=4),
        leader=True,
    )
    metrics.request("/pledge/{token}", 200)
    metrics.request("/pledge/{token}", 200)
    metrics.posts("sandbox", {"posted": 3, "rejected": 0})

    found = families(metrics)
    assert ({"status": "pledged"}, 5.0) in found["chorus_pledges"]
    assert found["chorus_blast_queue_depth"] == [({}, 4.0)]
    assert found["chorus_leader"] == [({}, 1.0)]
    assert found["chorus_web_requests_total"] == [
        ({"route": "/pledge/{token}", "status": "200"}, 2.0)
    ]
    assert found["chorus_posts_total"] == [({"network": "sandbox", "outcome": "posted"}, 3.0)]


def test_a_follower_reports_zero_and_unknown_counts_keep_the_last_figures() -> None:
    metrics = Metrics()
    metrics.observe_state(PledgeCounts({"pledged": 5}, queued=1), leader=True)
    metrics.observe_state(None, leader=False)
    found = families(metrics)
    assert found["chorus_leader"] == [({}, 0.0)]
    assert found["chorus_blast_queue_depth"] == [({}, 1.0)]


def test_two_instances_do_not_share_figures() -> None:
    first, second = Metrics(), Metrics()
    first.request("/healthz", 200)
    assert "chorus_web_requests_total" not in families(second)
