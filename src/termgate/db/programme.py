"""The developer programme's records: terms and their acceptance, reviews, the audit trail,
provider administrators, e-mail tokens, the inbox, the mail outbox and captured mail.

Kept beside `models` (the access-state tables the gateway snapshots) so each file stays small;
both declare on the same `Base`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime, new_id, stored_enum, utcnow


class TermsVersion(Base):
    """One published version of the API Terms of Use (clause 9: the terms may be amended)."""

    __tablename__ = "terms_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    change_summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # After this moment, production traffic of developers who have not accepted is refused.
    reaccept_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(320), nullable=False)


class TermsAcceptance(Base):
    """The acceptance ledger: who accepted which version, when, from where (clause 1)."""

    __tablename__ = "terms_acceptances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(ForeignKey("developers.id"), nullable=False)
    terms_version_id: Mapped[str] = mapped_column(ForeignKey("terms_versions.id"), nullable=False)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    user_agent: Mapped[str] = mapped_column(String(500), nullable=False)

    __table_args__ = (UniqueConstraint("developer_id", "terms_version_id"),)


class ReviewState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProductionRequest(Base):
    """An application's request for production access, and the provider's decision (clause 3.2)."""

    __tablename__ = "production_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    state: Mapped[ReviewState] = mapped_column(
        stored_enum(ReviewState), default=ReviewState.PENDING, nullable=False
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_production_requests_state", "state"),)


class AuditEntry(Base):
    """Append-only trail of every state change: who, what, when, why. Each row carries the hash
    of its predecessor, so a removed or altered row breaks the chain (clause 4.2)."""

    __tablename__ = "audit_entries"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's declaration)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    previous_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)


class AdminRole(enum.StrEnum):
    """What an administrator may do, each role including the one before it."""

    VIEWER = "viewer"  # reads only
    OPERATOR = "operator"  # acts on the programme: developers, applications, keys, plans...
    OWNER = "owner"  # also manages administrators and their tokens

    @property
    def rank(self) -> int:
        return list(AdminRole).index(self)


class Administrator(Base):
    """A person of the provider's platform team (console login and admin API tokens)."""

    __tablename__ = "administrators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Raised to end every session of the account (sign-out, new password, suspension).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    role: Mapped[AdminRole] = mapped_column(
        stored_enum(AdminRole), default=AdminRole.OWNER, server_default="owner", nullable=False
    )
    # Set while the account is disabled: no sign-in, no session, no token works.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AdminToken(Base):
    """A bearer token for the admin REST API, stored as its SHA-256."""

    __tablename__ = "admin_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    administrator_id: Mapped[str] = mapped_column(ForeignKey("administrators.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Recorded at most once a minute per token (`registry.admin_tokens.TOUCH_EVERY`).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EmailToken(Base):
    """A single-use link sent by e-mail: address verification or password reset."""

    __tablename__ = "email_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(ForeignKey("developers.id"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboxMessage(Base):
    """A notice in a developer's portal inbox (each is also sent by e-mail)."""

    __tablename__ = "inbox_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(ForeignKey("developers.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_inbox_messages_developer_at", "developer_id", "at"),)


class CapturedMail(Base):
    """Mail received by the demo's local SMTP capture server, shown in the console."""

    __tablename__ = "captured_mail"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sender: Mapped[str] = mapped_column(String(320), nullable=False)
    recipients: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)


class MailState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMail(Base):
    """An e-mail written in the transaction of the change it reports, delivered by the mail
    worker with retries (`termgate.notify.outbox`); a rolled-back change leaves none."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # What caused it: the notice's kind (suspended, terms, sign-up...) and the record it is about.
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    reference: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    state: Mapped[MailState] = mapped_column(
        stored_enum(MailState), default=MailState.PENDING, nullable=False
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)
