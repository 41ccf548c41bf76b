"""Where the core's ``Repository`` lives: SQLite for one process, PostgreSQL for more.

``open_repository`` picks the back end from the URL, connects and brings the schema up to
date, so the caller gets a ready repository.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.crypto import TokenCipher
from bot.leadership import SoleLeadership
from bot.ports import Leadership, Repository

__all__ = ["DEFAULT_POOL_SIZE", "open_leadership", "open_repository", "sqlite_path"]

DEFAULT_POOL_SIZE = 10  # PostgreSQL connections a pool may hold (DATABASE_POOL_SIZE)
SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url: str) -> str:
    """``sqlite:///data/chorus.db`` → ``data/chorus.db``; ``sqlite:////abs.db`` → ``/abs.db``."""
    if not url.startswith(SQLITE_PREFIX):
        raise ValueError("an SQLite URL looks like sqlite:///path/to/file.db")
    path = url[len(SQLITE_PREFIX) :]
    if not path:
        raise ValueError("the SQLite URL names no file (use sqlite:///:memory: for memory)")
    return path


def postgres_target(url: str) -> tuple[str, str | None]:
    """Split ``?schema=name`` off a PostgreSQL URL; return the plain DSN and the schema."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    rest = [(key, value) for key, value in query if key != "schema"]
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


async def open_repository(
    url: str, cipher: TokenCipher, *, migrate: bool = True, pool_size: int = DEFAULT_POOL_SIZE
) -> Repository:
    """Connect to the database at ``url`` and (by default) apply pending migrations.

    ``sqlite:///relative/or/abs.db`` (its folder is created), ``sqlite:///:memory:``,
    ``postgresql://…`` or ``postgres://…``, optionally with ``?schema=name``; on
    PostgreSQL, a pool of up to ``pool_size`` connections (SQLite has one connection).
    """
    scheme = url.split(":", 1)[0].lower()
    repo: Repository
    if scheme == "sqlite":
        from storage.sqlite import SqliteRepository

        repo = await SqliteRepository.connect(sqlite_path(url), cipher)
    elif scheme in ("postgresql", "postgres"):
        from storage.postgres import PostgresRepository

        dsn, schema = postgres_target(url)
        repo = await PostgresRepository.connect(dsn, cipher, schema=schema, pool_size=pool_size)
    else:
        raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite or postgresql")
    if migrate:
        try:
            await repo.migrate()
        except BaseException:
            await repo.close()
            raise
    return repo


def open_leadership(url: str, *, poll_seconds: float = 1.0, deadline: float = 5.0) -> Leadership:
    """Who leads among the processes on the database at ``url``: on SQLite the one
    process always does; on PostgreSQL an advisory lock decides (connected on first use),
    checked every ``poll_seconds``, each statement within ``deadline`` seconds."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        from storage.leadership import PostgresLeadership

        dsn, schema = postgres_target(url)
        return PostgresLeadership(dsn, schema=schema, deadline=deadline, poll_seconds=poll_seconds)
    return SoleLeadership()
