"""Bodies of the admin API's due-process resources: incidents (5.1), terminations and
attestations (6.2-6.4), verifications (4.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from termgate.web.admin_api.models import Body, Line, Out, Reason, Text

LongText = Annotated[Text, Field(max_length=5000)]


class IncidentOut(Out):
    id: str
    developer_id: str
    application_id: str
    summary: str
    discovered_at: datetime
    reported_at: datetime
    notify_by: datetime
    clock: str
    overdue: bool
    affected_end_users: list[str]
    data_categories: str
    containment: str
    state: str
    contained_at: datetime | None
    end_users_notified_at: datetime | None
    closed_at: datetime | None


class Triage(Body):
    """Move the report on: triaged, or closed; with a reason for the audit trail."""

    state: Literal["triaged", "closed"]
    reason: Reason


class Containment(Body):
    """`application`: revoke the application's keys and every token; `end-users`: only the
    tokens of the end users the report names."""

    scope: Literal["application", "end-users"]
    reason: Annotated[Text, Field(max_length=2000)] = ""


class ContainmentOut(Out):
    incident: IncidentOut
    keys_revoked: int
    token_families_revoked: int


class EndUserNotice(Body):
    """The provider's own words to the affected end users (their apps page and e-mail)."""

    text: Annotated[LongText, Field(min_length=1)]


class NoticeOut(Out):
    incident: IncidentOut
    end_users_told: int


class TerminationRequest(Body):
    """A ground of clause 6.2 (`uncured-breach`, `insolvency`) or `other`, and the reason."""

    ground: Literal["uncured-breach", "insolvency", "other"]
    reason: Reason


class TerminationOut(Out):
    id: str
    developer_id: str
    ground: str
    reason: str
    actor: str
    terminated_at: datetime
    keys_revoked: int
    token_families_revoked: int
    consents_withdrawn: int
    end_users_told: int
    attestation_due_at: datetime
    attestation_overdue_at: datetime | None
    attested: bool = False


class OutstandingAttestation(Out):
    termination_id: str
    developer_id: str
    developer_email: str
    attestation_due_at: datetime
    overdue: bool


class VerificationDraft(Body):
    """Ask for evidence about one application: the policy's questions, plus your own."""

    application_id: Line
    note: LongText = ""
    questions: Annotated[list[Annotated[Text, Field(max_length=1000)]], Field(max_length=20)] = (
        Field(default_factory=list)
    )
    days: Annotated[int, Field(ge=1, le=365)] | None = None


class Question(Out):
    id: str
    question: str
    answer: str | None = None


class UploadOut(Out):
    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class VerificationOut(Out):
    id: str
    developer_id: str
    application_id: str
    state: str
    note: str
    deadline: datetime
    requested_by: str
    requested_at: datetime
    answered_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    case_id: str | None
    questions: list[Question] = Field(default_factory=list)
    evidence: list[UploadOut] = Field(default_factory=list)


class Decision(Body):
    """Why the provider accepts the answers, or escalates."""

    reason: Reason
