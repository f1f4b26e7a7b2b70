"""Traffic-policy records: the maintenance calendar (clause 8) and the API lifecycle (4.5, 4.6).

Plans (in `models`) carry the limits of clause 4.4 and 3.3 e-h; counters live in the limiter
backend, not here.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime, new_id, stored_enum, utcnow


class MaintenanceRule(Base):
    """A weekly window, evaluated in its own time zone (Wednesday 20:00 Europe/Amsterdam)."""

    __tablename__ = "maintenance_rules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)  # Monday 0 … Sunday 6
    start_time: Mapped[str] = mapped_column(String(5), nullable=False)  # "20:00", local
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam", nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ExceptionKind(enum.StrEnum):
    CANCEL = "cancel"  # the weekly window starting at `original_start` does not happen
    MOVE = "move"  # it happens at `start` instead, for `duration_minutes`
    EXTRA = "extra"  # an additional window at `start`


class MaintenanceException(Base):
    __tablename__ = "maintenance_exceptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[ExceptionKind] = mapped_column(stored_enum(ExceptionKind), nullable=False)
    original_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class LifecycleState(enum.StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    SUNSET = "sunset"  # past its announced sunset date: brown-outs may run, then retirement
    RETIRED = "retired"


class OperationLifecycle(Base):
    """The lifecycle of one API operation (by its OpenAPI operationId) or group of them."""

    __tablename__ = "operation_lifecycles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    operation_id: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[LifecycleState] = mapped_column(
        stored_enum(LifecycleState), default=LifecycleState.ACTIVE, nullable=False
    )
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sunset_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    migration_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("operation_id"),)


class Brownout(Base):
    """A scheduled short period before the sunset in which the operation answers 410."""

    __tablename__ = "brownouts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lifecycle_id: Mapped[str] = mapped_column(ForeignKey("operation_lifecycles.id"), nullable=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    end: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Announcement(Base):
    """A change or deprecation announced to the developers whose applications called the
    affected operations (clause 4.5 a)."""

    __tablename__ = "announcements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    operations: Mapped[str] = mapped_column(Text, nullable=False)  # operation ids, space-separated
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    published_by: Mapped[str] = mapped_column(String(320), nullable=False)


class AnnouncementRecipient(Base):
    """One affected application of an announcement, and its developer."""

    __tablename__ = "announcement_recipients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    announcement_id: Mapped[str] = mapped_column(ForeignKey("announcements.id"), nullable=False)
    developer_id: Mapped[str] = mapped_column(ForeignKey("developers.id"), nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    operations: Mapped[str] = mapped_column(Text, nullable=False)  # which of them it called

    __table_args__ = (Index("ix_announcement_recipients_developer", "developer_id"),)
