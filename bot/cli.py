"""The ``chorus`` command: ``run`` (production), ``migrate`` (schema), ``console`` (try it).

Every setting problem ends the command with one line on stderr naming the setting and
exit code 2, never a traceback; a component that cannot start gives one line and 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from bot.domain.text import t
from bot.i18n import pick_language, render, supported_languages
from bot.log_format import JsonFormatter
from bot.log_redaction import Redactor
from bot.log_redaction import install as install_redaction
from bot.runtime import StartupError, migrate, serve
from bot.settings import Settings, SettingsError, load_settings

PERSONA_RE = re.compile(r"@?[\w.-]{1,32}")
EXIT_SETTINGS = 2
EXIT_STARTUP = 1
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio")
SECRET_LOGGERS = ("httpx", "httpcore")  # they log request URLs, and Telegram's hold the token


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chorus",
        description="Chorus, the crowdspeaking bot. Settings come from the environment or .env.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot: chat front ends, pledge web server and launch scheduler"
    )
    commands.add_parser("migrate", help="apply the database schema and print its version")
    console = commands.add_parser(
        "console", help="try Chorus in this terminal with a sandbox network (no token needed)"
    )
    console.add_argument(
        "--lang", choices=supported_languages(), help="language (default: DEFAULT_LANGUAGE)"
    )
    console.add_argument(
        "--as", dest="persona", default="you", type=_persona_name, help="first persona's name"
    )
    console.add_argument(
        "--log-level", default="WARNING", help="log level on stderr (default: WARNING)"
    )
    return parser


def _persona_name(value: str) -> str:
    if not PERSONA_RE.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a name: use up to 32 letters, digits, dots or dashes"
        )
    return value.lstrip("@")


def known_secrets(settings: Settings) -> list[str]:
    """The secret values in the settings, redacted from every log line as they are."""
    values = (
        settings.secret_key,
        settings.telegram_bot_token,
        settings.discord_bot_token,
        settings.x_client_secret,
        settings.metrics_token,
        settings.telegram_webhook_secret,
    )
    return [value.get_secret_value() for value in values if value is not None]


def configure_logging(
    level_name: str,
    *,
    setting: str = "LOG_LEVEL",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    log_format: str = "text",
) -> None:
    """Log to ``stream`` (stderr) at ``level_name``, every line scrubbed of ``secrets``
    and of anything shaped like a token, a code or a pledge link (``bot.log_redaction``);
    ``log_format="json"`` writes one JSON object per line (``bot.log_format``)."""
    level = logging.getLevelName(level_name.strip().upper())
    if not isinstance(level, int):
        raise SettingsError(
            f"Setting {setting}: unknown level {level_name!r} (use DEBUG, INFO, WARNING or ERROR)"
        )
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=stream or sys.stderr,
        force=True,
    )
    redactor = Redactor(secrets)
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter(redactor))
    install_redaction(redactor)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SECRET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _run(settings: Settings) -> int:
    configure_logging(
        settings.log_level, secrets=known_secrets(settings), log_format=settings.log_format
    )
    return asyncio.run(serve(settings))


def _migrate(settings: Settings) -> int:
    configure_logging(
        settings.log_level, secrets=known_secrets(settings), log_format=settings.log_format
    )
    version = asyncio.run(migrate(settings))
    language = pick_language(settings.default_language)
    print(render(t("console.cli.migrated", version=version), language))
    return 0


def _console(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console.app import run_console

    configure_logging(args.log_level, setting="--log-level", secrets=known_secrets(settings))
    language = args.lang or pick_language(settings.default_language)
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    return asyncio.run(
        run_console(
            settings,
            language=language,
            persona_name=args.persona,
            stdin=sys.stdin,
            stdout=sys.stdout,
            interactive=sys.stdin.isatty(),
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "run":
            return _run(settings)
        if args.command == "migrate":
            return _migrate(settings)
        return _console(settings, args)
    except SettingsError as exc:
        print(f"chorus: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except StartupError as exc:
        print(f"chorus: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
