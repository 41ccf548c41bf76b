"""``chorus run`` as an orchestrator sees it: JSON logs, ready and measured over HTTP, and a
clean exit on SIGTERM (readiness drops first, every component stops, exit code 0)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_cli import SECRET, TIMEOUT, chorus_env

METRICS_TOKEN = "metrics-token-not-real-0123456789"
LISTENING = "web server listening on http://"


def fetch(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_json_logs_probes_metrics_and_a_clean_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=chorus_env(
            tmp_path,
            SECRET_KEY=SECRET,
            DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.sqlite3'}",
            WEB_PORT="0",
            LOG_FORMAT="json",
            METRICS_TOKEN=METRICS_TOKEN,
        ),
        cwd=tmp_path,
    )
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.daemon = True
    watchdog.start()
    assert process.stderr is not None
    records: list[dict[str, Any]] = []
    for line in process.stderr:
        records.append(json.loads(line))  # every line is one JSON object
        if records[-1]["message"] == "chorus is running; stop it with Ctrl-C or SIGTERM":
            break
    messages = [record["message"] for record in records]
    assert any("scheduler started" in m for m in messages), messages
    assert all({"ts", "level", "logger", "message"} <= record.keys() for record in records)
    [listening] = [m for m in messages if m.startswith(LISTENING)]
    base = listening.removeprefix("web server listening on ")

    assert fetch(f"{base}/healthz") == (200, "ok")
    status, body = fetch(f"{base}/readyz")
    ready = json.loads(body)
    assert status == 200 and ready["ready"] is True and ready["role"] == "leader"
    assert fetch(f"{base}/metrics")[0] == 401
    status, text = fetch(f"{base}/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert status == 200
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"chorus_leader", "chorus_pledges", "chorus_blast_queue_depth"} <= names
    assert {"chorus_posts", "chorus_web_requests", "chorus_blast_lag_seconds"} <= names

    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=TIMEOUT)
    watchdog.cancel()
    assert process.returncode == 0, rest
    records += [json.loads(line) for line in rest.splitlines()]
    text_of_logs = json.dumps(records)
    assert SECRET not in text_of_logs and METRICS_TOKEN not in text_of_logs
    assert not any(record.get("exc_info") for record in records)
    tail = [record["message"] for record in records[len(messages) :]]
    shutting = next(record for record in records if record["message"] == "shutting down")
    assert shutting["role"] == "leader"  # an extra field, as its own key
    assert tail[0] == "shutting down"
    assert [m for m in tail if m.endswith("stopped")] == [
        "blast worker stopped",  # its thread, on an SQLite file (BLAST_THREAD)
        "maintenance stopped",
        "scheduler stopped",
        "leadership stopped",
        "web server stopped",
        "blast queue stopped",
        "bluesky network stopped",
        "mastodon network stopped",
        "storage stopped",
        "chorus stopped",
    ]
