"""The admin API's bodies for cases (clause 4.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from termgate.web.admin_api.models import Body, Filled, Out, Page, Reason, Text

ClauseId = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9][0-9a-z. ]*$")]
FindingId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
PartyId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class CaseFilter(Page):
    state: Annotated[Text | None, Field(max_length=16)] = None
    developer_id: Annotated[Text | None, Field(max_length=64)] = None


class CaseDraft(Body):
    """A case opened by hand: the party, the clauses, what was seen (sent to the developer)."""

    developer_id: PartyId
    application_id: PartyId | None = None
    clauses: Annotated[list[ClauseId], Field(min_length=1, max_length=10)]
    summary: Annotated[Filled, Field(max_length=4000)]
    cure_days: Annotated[int, Field(ge=0, le=90)] | None = None
    finding_ids: Annotated[list[FindingId], Field(max_length=100, default_factory=list)]


class Decision(Body):
    """Why: recorded in the audit trail and, for the developer's steps, sent to them."""

    reason: Reason


class Extension(Body):
    """More time to cure, counted from the current deadline."""

    days: Annotated[int, Field(ge=1, le=90)]
    reason: Reason


class CaseOut(Out):
    id: str
    developer_id: str
    application_id: str | None
    clauses: str
    summary: str
    state: str
    opened_by: str
    opened_at: datetime
    cure_days: int
    cure_deadline: datetime | None
    terminate_at: datetime | None
    closed_at: datetime | None


class CaseEventOut(Out):
    at: datetime
    kind: str
    actor: str
    side: str
    body: str


class CaseFileOut(Out):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class CaseDetail(CaseOut):
    finding_ids: list[str]
    timeline: list[CaseEventOut]
    files: list[CaseFileOut]
