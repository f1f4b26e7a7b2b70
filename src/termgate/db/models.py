"""The schema both planes share. Time is UTC; secrets are stored as hashes only.

Every change that the gateway's access snapshot depends on appends a row to `access_changes` in
the same transaction, so every gateway node notices it (see `termgate.gateway.snapshot`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both SQLite (which stores them naive) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; termgate stores UTC-aware times only")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Status(enum.StrEnum):
    """Life of a developer, application, subscription or key (clause 3.1: suspension)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Environment(enum.StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


def stored_enum(kind: type[enum.StrEnum]) -> Enum:
    """Stored as its value in a plain string column, portable across SQLite and PostgreSQL."""
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


def _status() -> Mapped[Status]:
    return mapped_column(
        stored_enum(Status),
        default=Status.ACTIVE,
        nullable=False,
    )


class Developer(Base):
    __tablename__ = "developers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    organisation: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[Status] = _status()
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Raised to end every session of the account (sign-out, new password, suspension).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    applications: Mapped[list[Application]] = relationship(back_populates="developer")


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(
        ForeignKey("developers.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    use_case_category: Mapped[str | None] = mapped_column(String(64))
    use_case: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # How it reads data, as declared (registry.applications.DATA_ACCESS); None: not declared.
    data_access: Mapped[str | None] = mapped_column(String(32))
    requested_scopes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    redirect_uris: Mapped[str] = mapped_column(Text, default="", nullable=False)
    expected_end_users: Mapped[int | None] = mapped_column(Integer)
    # OAuth 2 client: the application's id is its client_id (clause 2: one application's
    # credentials). Confidential clients hold a secret, stored as its SHA-256; public ones use PKCE.
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    environment: Mapped[Environment] = mapped_column(
        stored_enum(Environment),
        default=Environment.SANDBOX,
        nullable=False,
    )
    status: Mapped[Status] = _status()
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    developer: Mapped[Developer] = relationship(back_populates="applications")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="application")

    __table_args__ = (UniqueConstraint("developer_id", "name"),)


class Product(Base):
    """A bundle of API operations offered under plans (Sandbox, Production, ...)."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    environment: Mapped[Environment] = mapped_column(
        stored_enum(Environment),
        default=Environment.SANDBOX,
        nullable=False,
    )
    # Operation ids (from the upstream OpenAPI) the product includes; "*" means all.
    operations: Mapped[str] = mapped_column(Text, default="*", nullable=False)

    plans: Mapped[list[Plan]] = relationship(back_populates="product")


class Plan(Base):
    """Limits as data (clause 4.4); enforced by the gateway's limit step."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), nullable=False)
    slug: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    # Across all of a developer's applications and keys on this plan (clause 3.3 g-h); None:
    # the same number as per application, so extra applications do not multiply the limit.
    developer_rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    quota_per_period: Mapped[int | None] = mapped_column(BigInteger)
    # "month" (calendar month in the plan's time zone) or "rolling:<days>".
    quota_period: Mapped[str] = mapped_column(String(32), default="month", nullable=False)
    max_end_users: Mapped[int | None] = mapped_column(Integer)
    max_debtors: Mapped[int | None] = mapped_column(Integer)
    max_page_size: Mapped[int] = mapped_column(Integer, default=100, nullable=False)
    bandwidth_bytes_per_day: Mapped[int | None] = mapped_column(BigInteger)
    max_response_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Requests of one application under way at once, counted per gateway node (clause 3.3 f).
    max_in_flight: Mapped[int | None] = mapped_column(Integer)
    price_cents_per_month: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam", nullable=False)

    product: Mapped[Product] = relationship(back_populates="plans")

    __table_args__ = (UniqueConstraint("product_id", "slug"),)


class Subscription(Base):
    """An application's subscription to one plan of one product."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id"), nullable=False, index=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), nullable=False, index=True)
    status: Mapped[Status] = _status()
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    application: Mapped[Application] = relationship(back_populates="subscriptions")
    plan: Mapped[Plan] = relationship()
    keys: Mapped[list[SubscriptionKey]] = relationship(back_populates="subscription")


class SubscriptionKey(Base):
    """An `X-Subscription-Key`: shown once, stored as its SHA-256 (keys carry 256 random bits)."""

    __tablename__ = "subscription_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("subscriptions.id"), nullable=False, index=True
    )
    slot: Mapped[str] = mapped_column(String(16), default="primary", nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    status: Mapped[Status] = _status()
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[Subscription] = relationship(back_populates="keys")


class AccessChange(Base):
    """Append-only change feed of access state; gateway nodes reload when its head moves."""

    __tablename__ = "access_changes"
    # Ids must never be reused, even after old rows are pruned: nodes compare the head id.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's declaration)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class UsageEvent(Base):
    """One row per gateway request (clause 4.1: the provider monitors use)."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
    key_id: Mapped[str | None] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32))
    developer_id: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    operation: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[int | None] = mapped_column(Integer)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    latency_ms: Mapped[float] = mapped_column(nullable=False)
    # The end user the request was made for (clause 3.3 a) and the operation's data category.
    end_user_id: Mapped[str | None] = mapped_column(String(32))
    data_category: Mapped[str | None] = mapped_column(String(64))
    # The client's own X-Request-Id, kept apart: request_id is always the gateway's (unique).
    client_request_id: Mapped[str | None] = mapped_column(String(128))
    # What detection reads (clause 3.3 b-d): the tenant ids the path named, as written (cut to
    # 64 characters), the client's address (a trusted proxy's forwarded one, see core.proxies)
    # and the scope of the token's that the operation was allowed by.
    debtor_id: Mapped[str | None] = mapped_column(String(64))
    company_id: Mapped[str | None] = mapped_column(String(64))
    employee_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    scope: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_usage_events_application_at", "application_id", "at"),
        Index("ix_usage_events_at", "at"),
        # The end user's connected-apps page and access-log export (GDPR Art. 15) read by it.
        Index("ix_usage_events_end_user_at", "end_user_id", "at"),
        # Circumvention's throttled minutes and first throttlings of a week (clause 3.3 g):
        # the throttled events only, so the writer pays for it on those alone; covering what
        # those two reads need, so they read the index alone (a tenth of the time).
        Index(
            "ix_usage_events_throttled_at",
            "at",
            "developer_id",
            "application_id",
            postgresql_where=text("status = 429"),
            sqlite_where=text("status = 429"),
        ),
    )
