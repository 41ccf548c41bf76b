"""``LOG_FORMAT=json``: one JSON object per line, for a log collector.

Each line has ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``exc_info``
when there is a traceback, and every extra field the call passed (``extra={...}``).
The message and traceback are already scrubbed by ``bot.log_redaction``; the extra fields
are not, so this formatter runs them through the same redactor before writing them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.log_redaction import Redactor

# the attributes every LogRecord has: anything else on a record came from ``extra``
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON, extra fields redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = self._redactor.redact(record.exc_text)
        if record.stack_info:
            line["stack_info"] = self._redactor.redact(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = self._field(value)
        return json.dumps(line, ensure_ascii=False, default=str)

    def _field(self, value: object) -> object:
        if isinstance(value, bool | int | float) or value is None:
            return value
        return self._redactor.redact(value if isinstance(value, str) else str(value))
