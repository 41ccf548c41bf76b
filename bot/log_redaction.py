"""Secrets never reach a log line, at any level, from our code or a library's.

At DEBUG, tweepy prints request headers (``Authorization: Bearer …``), python-telegram-bot
prints every Bot API call with its text and buttons (pledge links), discord.py prints
request bodies, requests/urllib3/httpx print URLs (the Telegram bot token sits in the
path). Rather than trusting every library, the CLI's logging set-up installs one
``Redactor`` at the logging layer: each record's message, traceback and stack are
rewritten when the record is made and again by a filter on every handler, replacing
credentials found by shape (headers, ``access_token=`` and friends in query strings,
forms, JSON and reprs, ``/bot<token>/`` paths, our ``/pledge/<token>``, ``/tap/<token>``
and ``/manage/<token>`` links, signed tokens) and the literal secrets known at start.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[REDACTED]"
MIN_LITERAL = 8  # shorter "secrets" would blank out ordinary words

_NOT_DONE = r"(?!\[REDACTED)"
_VALUE_END = r"""[^\s"'&,;<>(){}\[\]]+"""

_KEYS = (
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "code_verifier",
    "code",
    "state",
    "password",
    "secret",
    "secret_key",
    "secret_token",
    "bot_token",
    "api_key",
    "oauth_token",
    "oauth_verifier",
)

_KEY_NAMES = "|".join(_KEYS)

# (pattern, replacement) in order; each keeps what names the secret and drops the value
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer x / {'Authorization': 'Basic x'} / "authorization": "Bot x"
    (
        re.compile(
            r"""(?i)(authorization["']?\s*[:=]\s*["']?)"""
            rf"""((?:bearer|basic|bot|token)\s+)?+{_NOT_DONE}[^\s"',}}]+"""
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(rf"(?i)\b(bearer|basic)\s+{_NOT_DONE}[A-Za-z0-9\-._~+/]+=*"), r"\1 " + REDACTED),
    # key=value (query strings, forms), "key": "value" (JSON), 'key': 'value' (reprs)
    (
        re.compile(
            rf"""(?i)(?<![A-Za-z0-9_-])((?:{_KEY_NAMES})["']?\s*[:=]\s*["']?)"""
            + _NOT_DONE
            + _VALUE_END
        ),
        r"\1" + REDACTED,
    ),
    # the Telegram Bot API puts the bot token in the path: /bot123456:ABC…/sendMessage
    (re.compile(rf"(?i)(/bot){_NOT_DONE}[0-9]+:[A-Za-z0-9_-]+"), r"\1" + REDACTED),
    (re.compile(r"\b[0-9]{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),  # a bare Telegram token
    # a Discord bot token: three base64url parts
    (re.compile(r"\b[A-Za-z0-9_-]{23,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"), REDACTED),
    # our own links: whoever holds one can pledge, tap or manage a pledge as its owner
    (re.compile(rf"(/(?:pledge|tap|manage)/){_NOT_DONE}[^\s\"'<>?#/\\)\]]+"), r"\1" + REDACTED),
    # the chat webhook's path holds a secret (long, so source paths in tracebacks stay)
    (re.compile(rf"(/telegram/){_NOT_DONE}[A-Za-z0-9_-]{{32,}}"), r"\1" + REDACTED),
    # signed tokens (itsdangerous, plain or compressed ".eJ…", JWT) wherever they appear
    (re.compile(r"(?:\beyJ|\.eJ)[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]+)+"), REDACTED),
)


class Redactor:
    """Rewrites text so that no known or recognisable secret is left in it."""

    def __init__(self, literals: Iterable[str | None] = ()) -> None:
        self._literals: set[str] = set()
        self._literal_re: re.Pattern[str] | None = None
        for literal in literals:
            self.add_literal(literal)

    def add_literal(self, secret: str | None) -> None:
        """Redact ``secret`` wherever it appears (ignored when empty or very short)."""
        if not secret or len(secret) < MIN_LITERAL or secret in self._literals:
            return
        self._literals.add(secret)
        ordered = sorted(self._literals, key=len, reverse=True)  # longest first
        self._literal_re = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        if self._literal_re is not None:
            text = self._literal_re.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def scrub(self, record: logging.LogRecord) -> None:
        """Replace the record's message (args merged in), traceback and stack, in place."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what there is, still redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that scrubs every record it lets through (it drops none)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        self.redactor.scrub(record)
        return True


class _RedactingFactory:
    """A log record factory that scrubs each record as it is made, for every handler,
    including handlers a library adds after start-up."""

    def __init__(self, inner: Callable[..., logging.LogRecord], redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.redactor.scrub(record)
        return record


def install(redactor: Redactor) -> None:
    """Scrub every record from now on: at creation, and again on each handler of the root
    logger and of any logger that has its own (replacing an earlier installation)."""
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingFactory):
        factory = factory.inner
    logging.setLogRecordFactory(_RedactingFactory(factory, redactor))
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(RedactingFilter(redactor))
