"""Records of due process besides cases: verification requests (clause 4.3) and their evidence,
incident reports (5.1), terminations (6.2-6.4), deletion attestations (6.4), and the notices an
end user reads on the connected-apps page when an application they connected is gone or leaked.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime, new_id, stored_enum, utcnow


class VerificationState(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    ESCALATED = "escalated"


class VerificationRequest(Base):
    """The provider asks a developer for evidence about one application, by a deadline."""

    __tablename__ = "verification_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(
        ForeignKey("developers.id"), nullable=False, index=True
    )
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    # JSON list of {"id", "question"}; answers a JSON object of id -> text.
    questions: Mapped[str] = mapped_column(Text, nullable=False)
    answers: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    state: Mapped[VerificationState] = mapped_column(
        stored_enum(VerificationState), default=VerificationState.OPEN, nullable=False
    )
    deadline: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(320), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(String(32))


class VerificationUpload(Base):
    """One evidence file, kept in the database so every node serves it (size-capped)."""

    __tablename__ = "verification_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("verification_requests.id"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class IncidentState(enum.StrEnum):
    REPORTED = "reported"
    TRIAGED = "triaged"
    CONTAINED = "contained"
    CLOSED = "closed"


class IncidentReport(Base):
    """A security incident or data leak a developer reported (clause 5.1)."""

    __tablename__ = "incident_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(
        ForeignKey("developers.id"), nullable=False, index=True
    )
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Usernames of the affected end users, one per line; the data categories, comma separated.
    affected_end_users: Mapped[str] = mapped_column(Text, default="", nullable=False)
    data_categories: Mapped[str] = mapped_column(Text, default="", nullable=False)
    containment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    state: Mapped[IncidentState] = mapped_column(
        stored_enum(IncidentState), default=IncidentState.REPORTED, nullable=False
    )
    clock_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    contained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_users_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once by the scheduler when the clock ran out before the end users were told.
    clock_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TerminationGround(enum.StrEnum):
    DEVELOPER_CLOSURE = "closed-by-dev"  # 6.2: the developer closes the account
    UNCURED_BREACH = "uncured-breach"  # 6.2: material breach not cured in time
    INSOLVENCY = "insolvency"  # 6.2: bankruptcy, suspension of payments, dissolution
    OTHER = "other"


class Termination(Base):
    """The end of a developer's licence: what was revoked, and the deletion attestation due."""

    __tablename__ = "terminations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(
        ForeignKey("developers.id"), nullable=False, unique=True
    )
    ground: Mapped[TerminationGround] = mapped_column(
        stored_enum(TerminationGround), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    terminated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    keys_revoked: Mapped[int] = mapped_column(Integer, nullable=False)
    token_families_revoked: Mapped[int] = mapped_column(Integer, nullable=False)
    consents_withdrawn: Mapped[int] = mapped_column(Integer, nullable=False)
    end_users_told: Mapped[int] = mapped_column(Integer, nullable=False)
    attestation_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attestation_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The closed account cannot sign in; the attestation link mailed to it carries this secret.
    attestation_token_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class DeletionAttestation(Base):
    """The developer's statement that stored content was deleted (6.4), signed by the server."""

    __tablename__ = "deletion_attestations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    termination_id: Mapped[str] = mapped_column(
        ForeignKey("terminations.id"), nullable=False, unique=True
    )
    developer_id: Mapped[str] = mapped_column(String(32), nullable=False)
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    deleted_on: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    deleted_by: Mapped[str] = mapped_column(String(200), nullable=False)
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attested_by: Mapped[str] = mapped_column(String(320), nullable=False)
    jws: Mapped[str] = mapped_column(Text, nullable=False)
    jws_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    audit_entry_id: Mapped[int] = mapped_column(Integer, nullable=False)


class EndUserNotice(Base):
    """What the provider tells an end user about an application they connected."""

    __tablename__ = "end_user_notices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    end_user_id: Mapped[str] = mapped_column(ForeignKey("end_users.id"), nullable=False, index=True)
    application_name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
