"""What `serve` checks before it opens its port: the workers' limiter, the public URL, the TLS
certificate and key, the database (reachable, migrated, its signing keys open with the secret key)
and Redis.

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

from termgate.db.key_seal import KeySeal, SealError, seal_for
from termgate.monitoring.policy import load_detector_policies
from termgate.registry.clauses import PolicyError
from termgate.settings import VAR_DIR, Settings

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

CONNECT_TIMEOUT = 5.0
MAX_PEM_BYTES = 1 << 20
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


async def check_database(database_url: str) -> str:
    """The database's schema revision when it is the one this version expects (`StartupError`
    otherwise: unreachable, no schema, behind or ahead)."""
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
    return ", ".join(sorted(revisions))


async def _sealed_keys(url: URL) -> list[tuple[str, str, str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT kid, sealed_jwk, seal_id FROM signing_keys ORDER BY created_at")
            )
            return [(str(kid), str(sealed), str(seal_id)) for kid, sealed, seal_id in rows]
    finally:
        await engine.dispose()


def _which_secret(settings: Settings) -> str:
    if settings.secret_key:
        return "TERMGATE_SECRET_KEY"
    return f"TERMGATE_SECRET_KEY (not set, so the key kept in {VAR_DIR / 'secret-key'})"


async def check_signing_keys(settings: Settings, seal: KeySeal) -> None:
    """Every token-signing key opens with the secret key: a node that cannot sign would start
    and then fail every token request."""
    url = make_url(settings.database_url)
    place = database_place(url)
    for kid, sealed, seal_id in await _sealed_keys(url):
        if seal_id != seal.seal_id:
            raise StartupError(
                f"{_which_secret(settings)}: the token-signing keys in {place} were sealed with "
                f"another secret key (seal id {seal_id}, this key's is {seal.seal_id}); start "
                "with the secret key they were sealed with, or re-seal them with `termgate "
                "signing-key rewrap --old-secret-file FILE`"
            )
        try:
            seal.open(kid, sealed)
        except SealError as error:
            raise StartupError(
                f"{_which_secret(settings)}: {error} (in {place}, damaged or altered); restore "
                "the signing_keys table from a backup"
            ) from None


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


def _pem_file(variable: str, path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            content = file.read(MAX_PEM_BYTES + 1)
    except OSError as error:
        raise StartupError(
            f"{variable}: cannot read {str(path)!r}: {error.strerror or type(error).__name__}"
        ) from None
    if len(content) > MAX_PEM_BYTES:
        raise StartupError(f"{variable}: {str(path)!r} is larger than a PEM file can sensibly be")
    return content


def check_tls(settings: Settings) -> None:
    """The certificate and key `serve` answers https with: readable PEM, the key is the
    certificate's, and the certificate is valid now. Nothing of the key is ever shown."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
    if cert_file is None or key_file is None:
        return
    cert_pem = _pem_file("TERMGATE_TLS_CERT_FILE", cert_file)
    key_pem = _pem_file("TERMGATE_TLS_KEY_FILE", key_file)
    try:
        certificate = x509.load_pem_x509_certificates(cert_pem)[0]
    except ValueError:
        raise StartupError(
            f"TERMGATE_TLS_CERT_FILE: {str(cert_file)!r} holds no PEM certificate"
        ) from None
    try:
        key = load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise StartupError(
            f"TERMGATE_TLS_KEY_FILE: {str(key_file)!r} is encrypted; give termgate the key "
            "unencrypted, in a file only its user can read"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise StartupError(
            f"TERMGATE_TLS_KEY_FILE: {str(key_file)!r} holds no PEM private key"
        ) from None
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise StartupError(
            f"TERMGATE_TLS_KEY_FILE: {str(key_file)!r} is not the key of the certificate in "
            f"{str(cert_file)!r} ({certificate.subject.rfc4514_string()})"
        )
    now = settings.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise StartupError(
            f"TERMGATE_TLS_CERT_FILE: the certificate in {str(cert_file)!r} is valid from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now"
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


def check_detector_policy(settings: Settings) -> None:
    """The detectors' tables of the terms policy (docs/terms-policy.md#detectors) can be read:
    `serve` runs them every `TERMGATE_DETECT_INTERVAL_SECONDS`."""
    if settings.detect_interval_seconds > 0:
        try:
            load_detector_policies(settings.terms_dir)
        except PolicyError as error:
            raise StartupError(f"TERMGATE_TERMS_DIR: {error}") from None


async def check_services(settings: Settings) -> None:
    await check_database(settings.database_url)
    await check_signing_keys(settings, seal_for(settings.session_secret()))
    if settings.limiter_backend == "redis" and settings.redis_url:
        await check_redis(settings.redis_url)


def preflight(settings: Settings) -> None:
    """Every check, in the order an operator fixes them; raises `StartupError` on the first."""
    check_workers(settings)
    check_public_url(settings)
    check_tls(settings)
    check_detector_policy(settings)
    check_sqlite_file(settings.database_url)
    asyncio.run(check_services(settings))
