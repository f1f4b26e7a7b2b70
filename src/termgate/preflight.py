"""What `serve` checks before it opens its port: the workers' limiter, the database, Redis and
the public URL.

Each failure is one line naming the setting and what to do, never a traceback, and the port is
never bound: an operator sees the cause at once instead of a node that answers 500 later.
Secrets in the URLs (passwords) are never shown; a database is named by its host and port.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from termgate.settings import Settings

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

CONNECT_TIMEOUT = 5.0
UPGRADE = "run `termgate db upgrade`"


class StartupError(Exception):
    """A check before serving failed; the message is the one line the operator reads."""


def database_place(url: URL) -> str:
    """Where the database is, without its password: `host:port/name` or the SQLite file."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _scripts() -> ScriptDirectory:
    """This version's migration scripts, read from disk (once per start)."""
    from alembic.script import ScriptDirectory

    from termgate.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _reason(error: BaseException) -> str:
    """The driver's own words, first line only (asyncpg and aiosqlite are terse and safe)."""
    original = error.orig if isinstance(error, DBAPIError) else error
    words = str(original).splitlines()[0] if str(original) else ""
    return words or type(original).__name__


async def _database_revisions(url: URL) -> set[str] | None:
    """The revisions stamped in the database; None when it has no termgate schema at all."""
    arguments = {"timeout": CONNECT_TIMEOUT} if url.get_backend_name() == "postgresql" else {}
    engine = create_async_engine(url, connect_args=arguments)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT * 2), engine.connect() as connection:
            exists = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            )
            if not exists:
                return None
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}
    finally:
        await engine.dispose()


def check_sqlite_file(database_url: str) -> None:
    """A SQLite file must exist: connecting would create an empty one and hide the mistake."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if not Path(url.database or "").is_file():
        raise StartupError(f"TERMGATE_DATABASE_URL: no {database_place(url)}; {UPGRADE}")


async def check_database(database_url: str) -> None:
    url = make_url(database_url)
    place = database_place(url)
    try:
        revisions = await _database_revisions(url)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise StartupError(
            f"TERMGATE_DATABASE_URL: cannot reach the database at {place}: {_reason(error)}"
        ) from None
    scripts = _scripts()
    expected = set(scripts.get_heads())  # the head(s) this version's schema ends at
    if not revisions:
        raise StartupError(f"TERMGATE_DATABASE_URL: {place} has no termgate schema; {UPGRADE}")
    if revisions != expected:
        known = revisions & {script.revision for script in scripts.walk_revisions()}
        advice = UPGRADE if known == revisions else "it was migrated by a newer termgate"
        raise StartupError(
            f"TERMGATE_DATABASE_URL: {place} is at schema revision {', '.join(sorted(revisions))}, "
            f"this termgate needs {', '.join(sorted(expected))}; {advice}"
        )


async def check_redis(redis_url: str) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    parts = urlsplit(redis_url)
    place = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    client = Redis.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
    )
    try:
        await client.ping()
    except (RedisError, OSError, TimeoutError) as error:
        raise StartupError(
            f"TERMGATE_REDIS_URL: cannot reach Redis at {place} (TERMGATE_LIMITER_BACKEND is "
            f"redis): {_reason(error)}"
        ) from None
    finally:
        await client.aclose()


def is_development_host(host: str) -> bool:
    """The loopback, or a name RFC 6761 reserves (`.localhost`, `.test`) that no public DNS
    answers: plain http there cannot be a production install's mistake."""
    if host == "localhost" or host.endswith((".localhost", ".test")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_public_url(settings: Settings) -> None:
    """The OAuth issuer must be https unless it is the loopback (RFC 6749 3.1, RFC 8252 8.3).

    Unset, the public URL is `http://TERMGATE_HOST:TERMGATE_PORT`: listening on 0.0.0.0 needs it
    set, since clients could not reach that issuer either."""
    url = settings.base_url
    parts = urlsplit(url)
    name = "TERMGATE_PUBLIC_URL" if settings.public_url else "TERMGATE_HOST"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StartupError(f"{name}: {url!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and not is_development_host(parts.hostname):
        raise StartupError(
            f"{name}: {url!r} is plain http on a host that is not the loopback, which OAuth "
            "clients refuse; set TERMGATE_PUBLIC_URL to the https URL people use"
        )


def check_workers(settings: Settings) -> None:
    """Several workers need the Redis limiter: in-process counters are per worker process, so
    with the memory backend a node of N workers would admit N times every rate, quota and cap
    (clauses 3.3 f-h, 4.4). See docs/limits.md, "Several workers on one node"."""
    if settings.workers > 1 and settings.limiter_backend == "memory":
        raise StartupError(
            f"TERMGATE_WORKERS: {settings.workers} workers with TERMGATE_LIMITER_BACKEND=memory "
            "would each count the plans' limits on their own (a node would admit "
            f"{settings.workers}x every limit); set TERMGATE_WORKERS=1, or "
            "TERMGATE_LIMITER_BACKEND=redis with TERMGATE_REDIS_URL"
        )


async def check_services(settings: Settings) -> None:
    await check_database(settings.database_url)
    if settings.limiter_backend == "redis" and settings.redis_url:
        await check_redis(settings.redis_url)


def preflight(settings: Settings) -> None:
    """Every check, in the order an operator fixes them; raises `StartupError` on the first."""
    check_workers(settings)
    check_public_url(settings)
    check_sqlite_file(settings.database_url)
    asyncio.run(check_services(settings))
