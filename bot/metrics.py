"""Prometheus metrics of one Chorus process, behind a small facade the core calls.

This is the only module of the core that imports ``prometheus_client`` (an architecture
test checks it), so the blast, the web app and the runtime record figures through
plain methods and never name a metric type. Every metric lives in this object's own
registry, so several Chorus instances in one test process never collide.

Labels stay bounded: a pledge status, a network id, an outcome kind, a route pattern
(``/pledge/{token}``, never the path) and an HTTP status; no campaign or person is ever
a label. The blast hot path pays nothing per post: a network's counts are added once,
when its sender finishes.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.domain.operations import PledgeCounts

CONTENT_TYPE = CONTENT_TYPE_LATEST
# a blast lasts from a fraction of a second to tens of minutes (retries, rate limits)
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
# how late the first post leaves after the launch moment
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
UNMATCHED_ROUTE = "unmatched"


class Metrics:
    """The figures ``/metrics`` serves; methods are cheap and never raise on a label."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._pledges = Gauge(
            "chorus_pledges",
            "Pledges in the database by status (all campaigns)",
            ["status"],
            registry=self.registry,
        )
        self._queue = Gauge(
            "chorus_blast_queue_depth",
            "Pledges still to post in campaigns that are launching",
            registry=self.registry,
        )
        self._posts = Counter(
            "chorus_posts",
            "Posts attempted at a launch, by network and outcome (posted or a failure kind)",
            ["network", "outcome"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "chorus_blast_duration_seconds",
            "Time from the start of a blast's delivery to its last post or offer",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._lag = Histogram(
            "chorus_blast_lag_seconds",
            "Time from a campaign's launch moment to its first post (or delivery start)",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self._leader = Gauge(
            "chorus_leader", "1 while this process is the leader, else 0", registry=self.registry
        )
        self._requests = Counter(
            "chorus_web_requests",
            "Web requests served, by route pattern and HTTP status",
            ["route", "status"],
            registry=self.registry,
        )

    # --- the blast -----------------------------------------------------------------

    def posts(self, network: str, outcomes: Mapping[str, int]) -> None:
        """``outcomes[kind]`` more posts on ``network`` ended as ``kind``."""
        for outcome, count in outcomes.items():
            if count > 0:
                self._posts.labels(network=network, outcome=outcome).inc(count)

    def blast_finished(self, duration_seconds: float, lag_seconds: float) -> None:
        self._duration.observe(max(0.0, duration_seconds))
        self._lag.observe(max(0.0, lag_seconds))

    # --- the web app -----------------------------------------------------------------

    def request(self, route: str, status: int) -> None:
        self._requests.labels(route=route, status=str(status)).inc()

    # --- read at each scrape -----------------------------------------------------------

    def observe_state(self, counts: PledgeCounts | None, *, leader: bool) -> None:
        """Set the gauges read from the database (None: left as they were) and the role."""
        self._leader.set(1 if leader else 0)
        if counts is None:
            return
        for status, count in counts.by_status.items():
            self._pledges.labels(status=status).set(count)
        self._queue.set(counts.queued)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
