"""Configuration: `TERMGATE_*` environment variables over an optional TOML file over defaults.

A bad value fails at start with a message naming the setting and where it came from, never a
secret value (see `load_settings` and `termgate.secret_settings`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AnyUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from termgate.secret_settings import (
    URL_FIELDS,
    SecretFileError,
    SecretFiles,
    describe_origin,
    mask_url,
    masked,
)

VAR_DIR = Path(os.environ.get("TERMGATE_VAR_DIR", "var"))
TERMS_DIR = Path(__file__).resolve().parents[2] / "terms"


def proxy_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`TERMGATE_TRUSTED_PROXIES`: `10.0.0.0/8, 127.0.0.1, ::1`, addresses or CIDR networks,
    comma-separated; ValueError naming the first entry that is neither."""
    networks = []
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or CIDR network (like 10.0.0.0/8 or ::1)"
            ) from None
    return tuple(networks)


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the setting and the reason."""


class Settings(BaseSettings):
    """Every knob of termgate. Environment: `TERMGATE_<NAME>`; file: `TERMGATE_CONFIG` (TOML)."""

    model_config = SettingsConfigDict(env_prefix="TERMGATE_", extra="forbid", frozen=True)

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{VAR_DIR / 'termgate.db'}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db for cluster mode")
    limiter_backend: Literal["memory", "redis"] = Field(
        default="memory",
        description="where rate, quota and bandwidth counters live: this process, or Redis "
        "(TERMGATE_REDIS_URL) shared by every node",
    )
    redis_failure: Literal["open", "closed"] = Field(
        default="open",
        description="Redis unreachable: 'open' limits on each node alone, 'closed' answers 503",
    )
    redis_timeout: float = Field(default=0.25, gt=0, le=10, description="seconds per Redis call")
    redis_pool_size: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="kept for old configurations; the limiter holds one pipelined connection",
    )
    host: str = Field(default="127.0.0.1", description="address the gateway and console listen on")
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    tls_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate (chain) `serve` answers https with; needs tls_key_file",
    )
    tls_key_file: Path | None = Field(
        default=None, description="PEM private key (unencrypted) of tls_cert_file"
    )
    upstream_url: AnyUrl = Field(
        default=AnyUrl("http://127.0.0.1:8001"), description="base URL of the protected API"
    )
    upstream_port: int = Field(
        default=8001, ge=1, le=65535, description="port of `termgate upstream`"
    )
    upstream_connect_timeout: float = Field(default=2.0, gt=0, le=60)
    upstream_timeout: float = Field(default=30.0, gt=0, le=600, description="seconds until 504")
    request_body_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="seconds the gateway waits for each next piece of a request body until 408",
    )
    upstream_pool_size: int = Field(default=64, ge=1, le=4096)
    upstream_openapi_url: str | None = Field(
        default=None, description="path of the upstream's OpenAPI document (default /openapi.json)"
    )
    openapi_path: Path | None = Field(
        default=None,
        description="file of the API's OpenAPI 3.0/3.1 document (JSON or YAML); when set, the "
        "gateway reads it instead of asking the upstream",
    )
    gateway_prefix: str = Field(default="/api", description="path prefix the gateway serves")
    snapshot_refresh_seconds: float = Field(default=0.5, gt=0, le=60)
    usage_flush_seconds: float = Field(default=1.0, gt=0, le=60)
    usage_batch_size: int = Field(default=50_000, ge=1, le=100_000)
    usage_buffer_limit: int = Field(default=200_000, ge=1_000)
    signin_account_failures: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="failed sign-ins per account (portal, console, /connect) within the window",
    )
    signin_address_failures: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="failed sign-ins from one source address (all sign-in pages) within the window",
    )
    signin_window_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="window of the sign-in throttle"
    )
    usage_spool_seconds: float = Field(
        default=0.01,
        ge=0,
        le=10,
        description="how often new usage events are appended to the local spool; 0: no spool",
    )
    usage_spool_dir: Path | None = Field(
        default=None,
        description="folder of the usage spool (one file per worker); default: next to the "
        "SQLite file, or var/usage-spool/<database> for PostgreSQL",
    )
    usage_retention_days: int = Field(
        default=400,
        ge=0,
        le=36_500,
        description="days usage events are kept (0: forever); never fewer than the longest "
        "plan quota period or the 90 days announcements read (docs/operations.md)",
    )
    tenancy_path: Path | None = Field(
        default=None,
        description="TOML file naming the API's tenant path parameters and the listings that "
        "tell who owns each id; default: the published payroll contract's (docs/configuration.md)",
    )
    tenancy_capacity: int = Field(
        default=100_000,
        ge=100,
        le=50_000_000,
        description="tenant ids remembered with their owner, per kind (least recently used go "
        "first); "
        "the listings walked to learn them are bounded by the same number of ids",
    )
    tenancy_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        le=86_400,
        description="a listing walked this recently is trusted when an id is not in it; older "
        "ones are walked again on the next unknown id",
    )
    seed: int = Field(default=20260401, description="seed of the reference upstream's data")
    employees: int = Field(default=2000, ge=10, le=2_000_000)
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="lowest level written to the log (stderr)"
    )
    log_format: Literal["auto", "json", "logfmt", "console"] = Field(
        default="auto",
        description="json, logfmt or console; auto: console on a terminal, logfmt otherwise",
    )
    access_log: bool = Field(
        default=False, description="one log line per request (gateway and control plane)"
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=24,
        description="bearer token Prometheus sends to scrape GET /metrics; unset: no /metrics",
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or CIDR networks of the reverse proxies whose "
        "X-Forwarded-For/-Proto/-Host headers are believed (10.0.0.0/8, ::1); empty: none",
    )
    public_url: str | None = Field(
        default=None, description="URL people use to reach termgate, for links in e-mail"
    )
    errors_url: str | None = Field(
        default=None,
        description="page explaining each error code; a refusal's docUrl is this URL with the "
        "code as its fragment (#40303); default: the portal's /portal/errors on public_url",
    )
    problem_content_type: Literal["application/json", "application/problem+json"] = Field(
        default="application/json",
        description="media type of the gateway's refusals: application/json as the published "
        "contract declares, or RFC 9457's application/problem+json",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="signs session cookies; default: a random key kept in TERMGATE_VAR_DIR",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for outgoing mail")
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = Field(default="termgate <no-reply@termgate.example>")
    mail_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="delivery attempts of one e-mail before it is marked failed",
    )
    mail_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="wait after a message's first failed attempt; doubled after each next one",
    )
    mail_retry_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86_400,
        description="longest wait between two attempts of one message",
    )
    mail_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="how often `serve` (and `termgate mail deliver`) look for mail that is due",
    )
    scheduler_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="how often the scheduler's leader looks for deadlines that are due",
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="`serve` takes part in electing the scheduler leader (one per cluster)",
    )
    detect_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="how often `serve` runs a detection pass (0: never; `termgate detect run`)",
    )
    terms_dir: Path = Field(
        default=TERMS_DIR, description="folder of the terms text and policy.toml"
    )
    reaccept_days: int = Field(default=30, ge=0, le=365, description="days to accept new terms")
    maintenance_notice_days: int = Field(
        default=7, ge=0, le=90, description="days before a moved or extra window developers hear"
    )
    example_client: bool = Field(
        default=False, description="serve the demo's example OAuth client at /example-client"
    )
    clock_offset_seconds: float = Field(
        default=0.0, description="moves termgate's clock (tests and demos of deadlines only)"
    )
    incident_clock_hours: int = Field(
        default=72, ge=1, le=720, description="hours from an incident's discovery to notify"
    )
    attestation_days: int = Field(
        default=30, ge=1, le=365, description="days a terminated developer has to attest deletion"
    )
    verification_days: int = Field(
        default=14, ge=1, le=365, description="days a developer has to answer a verification"
    )
    upload_max_bytes: int = Field(
        default=5_000_000, ge=1024, le=100_000_000, description="largest evidence upload"
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            # The parser's own message may quote the URL, password included.
            raise ValueError("is not a URL SQLAlchemy can read (user, host, port?)") from None
        return value

    @model_validator(mode="after")
    def _redis_for_redis_limiter(self) -> Settings:
        if self.limiter_backend == "redis" and not self.redis_url:
            raise cross_field(
                "limiter_backend 'redis' needs a Redis URL", "limiter_backend", "redis_url"
            )
        return self

    @model_validator(mode="after")
    def _tls_files_together(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise cross_field(
                "TLS needs both a certificate and its key", "tls_cert_file", "tls_key_file"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        proxy_networks(value)
        return value

    @field_validator("gateway_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError("must start with '/' and not end with '/', like /api")
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # SecretStr hides the secret fields; URLs keep their user and host, not their password.
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name in URL_FIELDS and isinstance(value, str) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def usage_spool_path(self) -> Path | None:
        """Where the usage spool lives; None when it is off. One folder per database, so a
        spool is never replayed into another database."""
        if self.usage_spool_seconds == 0:
            return None
        if self.usage_spool_dir is not None:
            return self.usage_spool_dir
        database = self.database_url.partition(":///")[2]
        if self.is_sqlite and database and not database.startswith(":memory:"):
            file = Path(database.partition("?")[0])
            return file.with_name(file.name + ".usage-spool")
        digest = hashlib.sha256(self.database_url.encode()).hexdigest()[:16]
        return VAR_DIR / "usage-spool" / digest

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_cert_file else "http"
        return (self.public_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")

    @property
    def issuer(self) -> str:
        """The OAuth 2 issuer every node names in and expects of access tokens."""
        return self.base_url

    def now(self) -> datetime:
        """termgate's clock: UTC, moved by `clock_offset_seconds` where a test or demo asks."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset_seconds)

    def session_secret(self) -> str:
        """The configured secret key, else one made once and kept in the var folder.

        It signs session cookies and seals the token-signing keys, so processes sharing the
        folder must agree on it: the file appears whole (linked into place) and the first
        process to link it wins."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        path = VAR_DIR / "secret-key"
        if not path.exists():
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            draft = VAR_DIR / f".secret-key.{os.getpid()}.{secrets.token_hex(4)}"
            draft.write_text(secrets.token_urlsafe(48))
            draft.chmod(0o600)
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                draft.unlink()
        return path.read_text().strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            SecretFiles(settings_cls),
        ]
        config_file = os.environ.get("TERMGATE_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def cross_field(message: str, *names: str) -> PydanticCustomError:
    """The error of a rule between settings, for a model validator: the message names the rule,
    `describe_error` adds each setting's shown value and where it came from."""
    return PydanticCustomError("cross_field", message, {"settings": names})


def describe_error(error: ValidationError, given: tuple[str, ...] = ()) -> str:
    """One line per bad setting, named as the operator writes it (`TERMGATE_PORT: ...`), with
    where its value came from; secret values are never shown (`termgate.secret_settings`)."""
    lines = []
    for item in error.errors():
        if not item["loc"]:
            involved = (item.get("ctx") or {}).get("settings", ())
            values = dict(item["input"]) if isinstance(item["input"], dict) else {}
            parts = [
                f"TERMGATE_{name.upper()} is {masked(name, values.get(name))} "
                f"({describe_origin(name, given)})"
                for name in involved
            ]
            lines.append("; ".join([item["msg"], *parts]))
            continue
        name = str(item["loc"][0])
        origin = describe_origin(name, given)
        if item["type"] == "extra_forbidden":
            lines.append(f"TERMGATE_{name.upper()}: not a setting ({origin})")
        else:
            shown = masked(name, item.get("input"))
            lines.append(f"TERMGATE_{name.upper()}: {item['msg']} (got {shown}, {origin})")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the configuration, raising `SettingsError` with every bad setting named."""
    config_file = os.environ.get("TERMGATE_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"TERMGATE_CONFIG: no such file {config_file!r}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_error(error, tuple(overrides))) from None
    except SecretFileError as error:
        raise SettingsError(str(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
