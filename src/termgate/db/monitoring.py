"""Findings of the detectors (clause 4.1: the provider monitors use).

A finding names the party (developer, application, key), the detector and clause, its severity and
its evidence; it stays one row while the behaviour continues (`occurrences`, `last_seen`), and ends
dismissed (a false positive, with the reason) or actioned (what was done). Due process reads this
table as its input.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime, new_id


class FindingState(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    detector: Mapped[str] = mapped_column(String(64), nullable=False)
    clause: Mapped[str] = mapped_column(String(16), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    developer_id: Mapped[str | None] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    # The deduplication key within the party, e.g. "harvest:employees".
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, default="{}", nullable=False)  # JSON
    state: Mapped[str] = mapped_column(String(16), default=FindingState.OPEN.value, nullable=False)
    state_reason: Mapped[str | None] = mapped_column(Text)
    # Recorded by a detector in simulation mode: nothing was (or will be) enforced on it.
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    occurrences: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    action: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_findings_state_last_seen", "state", "last_seen"),
        Index("ix_findings_developer_id", "developer_id"),
        Index("ix_findings_application_id", "application_id"),
        Index("ix_findings_dedup", "detector", "subject", "state"),
    )


class SignInFailure(Base):
    """An end user's failed or throttled sign-in at the consent flow's sign-in page, with the
    application whose authorization request it was for (clause 3.3 c: credential stuffing)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    application_id: Mapped[str | None] = mapped_column(String(32))
    client_ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_sign_in_failures_at", "at"),)
