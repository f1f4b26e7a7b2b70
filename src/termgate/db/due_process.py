"""Due process (clauses 4.2 and 6.2): cases with their timeline and files, and the records of
the cluster's one scheduler (what each job did, item by item, and how its last runs went)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime, new_id


class Case(Base):
    """A suspected violation by one party (a developer, or one of its applications): the
    clauses it cites, where it stands (`termgate.due_process.cases.TRANSITIONS`), its deadlines."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(ForeignKey("developers.id"), nullable=False)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"))
    # Clause ids of terms/policy.toml, separated by "; " (ids themselves hold spaces: "3.3 d").
    clauses: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    opened_by: Mapped[str] = mapped_column(String(320), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    cure_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # Set by the notice: the party must have remedied the breach by then (clause 6.2).
    cure_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by the suspension: the case is terminated then unless cured first.
    terminate_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True when this case suspended its party, so accepting the cure reinstates it.
    suspended_party: Mapped[bool] = mapped_column(default=False, nullable=False)
    # JSON list of the finding ids that opened or support the case.
    finding_ids: Mapped[str] = mapped_column(Text, default="[]", nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_cases_state_cure_deadline", "state", "cure_deadline"),
        Index("ix_cases_developer_id", "developer_id"),
    )


class CaseEvent(Base):
    """One entry of a case's timeline: a transition, a notice, a reminder, a reply, a note."""

    __tablename__ = "case_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    # "provider" or "developer": whose side wrote it (the portal shows both).
    side: Mapped[str] = mapped_column(String(16), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)

    __table_args__ = (Index("ix_case_events_case_id_at", "case_id", "at"),)


class CaseFile(Base):
    """A file attached to a case event (a developer's evidence of the cure), kept in the
    database: size-capped, its type sniffed from its bytes, its name sanitised."""

    __tablename__ = "case_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    event_id: Mapped[str] = mapped_column(ForeignKey("case_events.id"), nullable=False)
    filename: Mapped[str] = mapped_column(String(120), nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    __table_args__ = (Index("ix_case_files_case_id", "case_id"),)


class SchedulerRun(Base):
    """One due item acted on by one job. Written in the transaction of the act itself, under a
    unique (job, item): a second act on the same item, by any node, fails and is rolled back."""

    __tablename__ = "scheduler_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job: Mapped[str] = mapped_column(String(64), nullable=False)
    item: Mapped[str] = mapped_column(String(200), nullable=False)
    node: Mapped[str] = mapped_column(String(100), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    outcome: Mapped[str] = mapped_column(Text, default="", nullable=False)

    __table_args__ = (UniqueConstraint("job", "item"),)


class SchedulerJob(Base):
    """How a job last ran (for the console): when, on which node, what it did or why it failed."""

    __tablename__ = "scheduler_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_node: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    last_acted: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
