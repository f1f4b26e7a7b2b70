"""due process records: verification requests and evidence (4.3), incident reports (5.1),
terminations and deletion attestations (6.2-6.4), notices to end users

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 16:35:49

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "end_user_notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("end_user_id", sa.String(length=32), nullable=False),
        sa.Column("application_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["end_user_id"],
            ["end_users.id"],
            name=op.f("fk_end_user_notices_end_user_id_end_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_end_user_notices")),
    )
    with op.batch_alter_table("end_user_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_end_user_notices_end_user_id"), ["end_user_id"], unique=False
        )

    op.create_table(
        "terminations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column(
            "ground",
            sa.Enum(
                "closed-by-dev",
                "uncured-breach",
                "insolvency",
                "other",
                name="terminationground",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keys_revoked", sa.Integer(), nullable=False),
        sa.Column("token_families_revoked", sa.Integer(), nullable=False),
        sa.Column("consents_withdrawn", sa.Integer(), nullable=False),
        sa.Column("end_users_told", sa.Integer(), nullable=False),
        sa.Column("attestation_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attestation_overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attestation_token_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_terminations_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminations")),
        sa.UniqueConstraint("developer_id", name=op.f("uq_terminations_developer_id")),
    )
    op.create_table(
        "deletion_attestations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("termination_id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("deleted_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sa.String(length=200), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attested_by", sa.String(length=320), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("jws_sha256", sa.String(length=64), nullable=False),
        sa.Column("audit_entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["termination_id"],
            ["terminations.id"],
            name=op.f("fk_deletion_attestations_termination_id_terminations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_attestations")),
        sa.UniqueConstraint("termination_id", name=op.f("uq_deletion_attestations_termination_id")),
    )
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("affected_end_users", sa.Text(), nullable=False),
        sa.Column("data_categories", sa.Text(), nullable=False),
        sa.Column("containment", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "reported",
                "triaged",
                "contained",
                "closed",
                name="incidentstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("clock_hours", sa.Integer(), nullable=False),
        sa.Column("contained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_users_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_incident_reports_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_incident_reports_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_reports")),
    )
    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_reports_developer_id"), ["developer_id"], unique=False
        )

    op.create_table(
        "verification_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("developer_id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "answered",
                "accepted",
                "escalated",
                name="verificationstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_verification_requests_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_verification_requests_developer_id_developers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_requests")),
    )
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_requests_developer_id"), ["developer_id"], unique=False
        )

    op.create_table(
        "verification_uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["verification_requests.id"],
            name=op.f("fk_verification_uploads_request_id_verification_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_uploads")),
    )
    with op.batch_alter_table("verification_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_uploads_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_uploads_request_id"))

    op.drop_table("verification_uploads")
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_requests_developer_id"))

    op.drop_table("verification_requests")
    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_reports_developer_id"))

    op.drop_table("incident_reports")
    op.drop_table("deletion_attestations")
    op.drop_table("terminations")
    with op.batch_alter_table("end_user_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_end_user_notices_end_user_id"))

    op.drop_table("end_user_notices")
