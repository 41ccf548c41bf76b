"""LOG_FORMAT=json: one JSON object per line, every field still redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.cli import configure_logging

SECRET = "test-secret-not-real-0123456789abcdef"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    captured = io.StringIO()
    yield captured
    logging.basicConfig(force=True)  # hand the root logger back
    logging.setLogRecordFactory(logging.LogRecord)


def lines_of(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_its_extra_fields(stream: io.StringIO) -> None:
    configure_logging("INFO", secrets=[SECRET], stream=stream, log_format="json")
    log = logging.getLogger("chorus.test")

    log.info("campaign %s launched", "BEES01", extra={"posted": 12, "network": "sandbox"})
    log.debug("not shown at INFO")

    [line] = lines_of(stream)
    assert line["level"] == "INFO" and line["logger"] == "chorus.test"
    assert line["message"] == "campaign BEES01 launched"
    assert line["posted"] == 12 and line["network"] == "sandbox"
    assert str(line["ts"]).endswith("+00:00")  # aware UTC


def test_a_secret_is_redacted_in_message_extra_and_traceback(stream: io.StringIO) -> None:
    configure_logging("INFO", secrets=[SECRET], stream=stream, log_format="json")
    log = logging.getLogger("chorus.test")

    log.warning("key %s", SECRET, extra={"url": f"https://api.telegram.org/bot{TOKEN}/getMe"})
    try:
        raise RuntimeError(f"Authorization: Bearer {SECRET}")
    except RuntimeError:
        log.exception("failed with token=%s", TOKEN)

    text = stream.getvalue()
    assert SECRET not in text and TOKEN not in text
    first, second = lines_of(stream)
    assert first["message"] == "key [REDACTED]"
    assert first["url"] == "https://api.telegram.org/bot[REDACTED]/getMe"
    assert second["message"] == "failed with token=[REDACTED]"
    assert "RuntimeError" in str(second["exc_info"]) and "[REDACTED]" in str(second["exc_info"])


def test_text_stays_the_default(stream: io.StringIO) -> None:
    configure_logging("INFO", stream=stream)
    logging.getLogger("chorus.test").info("plain")
    assert stream.getvalue().rstrip().endswith("INFO chorus.test: plain")
