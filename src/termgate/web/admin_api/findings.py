"""The detectors' findings (clause 4.1): list and filter, read one with its evidence, dismiss
one as a false positive with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, Field

from termgate.monitoring.findings import dismiss_finding, evidence_of, get_finding, list_findings
from termgate.web.admin_api.access import Admin
from termgate.web.admin_api.models import Body, Id, Listing, Out, Page, Reason, Text
from termgate.web.admin_api.parties import pagination, window
from termgate.web.admin_api.problems import NOT_FOUND_ID, REFUSED, clause

router = APIRouter()


class FindingFilter(Page):
    state: Literal["open", "dismissed", "actioned"] | None = None
    detector: Annotated[Text | None, Field(max_length=64)] = None
    severity: Literal["info", "minor", "major", "critical"] | None = None
    developer_id: Annotated[Text | None, Field(max_length=64)] = None
    application_id: Annotated[Text | None, Field(max_length=64)] = None
    since: AwareDatetime | None = None


class FindingOut(Out):
    id: str
    detector: str
    clause: str
    severity: str
    state: str
    developer_id: str | None
    application_id: str | None
    key_id: str | None
    subject: str
    summary: str
    evidence: dict[str, Any]
    state_reason: str | None
    action: str | None
    simulated: bool
    first_seen: datetime
    last_seen: datetime
    occurrences: int


class Dismissal(Body):
    """Why the finding is a false positive; recorded in the finding and the audit trail."""

    reason: Reason


def shown(finding: Any) -> FindingOut:
    values = {
        name: getattr(finding, name) for name in FindingOut.model_fields if name != "evidence"
    }
    return FindingOut.model_validate({**values, "evidence": evidence_of(finding)})


@router.get(
    "/findings",
    operation_id="listFindings",
    summary="List the detectors' findings, the most recently seen first",
    tags=["findings"],
    openapi_extra=clause("4.1"),
)
async def list_findings_op(
    admin: Admin, query: Annotated[FindingFilter, Query()]
) -> Listing[FindingOut]:
    rows = await list_findings(
        admin.session,
        state=query.state,
        detector=query.detector,
        severity=query.severity,
        developer_id=query.developer_id,
        application_id=query.application_id,
        since=query.since,
    )
    page = rows[window(query)]
    return Listing[FindingOut](
        data=[shown(finding) for finding in page], pagination=pagination(query, len(rows))
    )


@router.get(
    "/findings/{finding_id}",
    operation_id="getFinding",
    summary="A finding with its evidence",
    tags=["findings"],
    openapi_extra=clause("4.1"),
    responses=NOT_FOUND_ID,
)
async def get_finding_op(admin: Admin, finding_id: Id) -> FindingOut:
    return shown(await get_finding(admin.session, finding_id))


@router.post(
    "/findings/{finding_id}/dismiss",
    operation_id="dismissFinding",
    summary="Dismiss an open finding as a false positive, with the reason",
    tags=["findings"],
    openapi_extra=clause("4.1"),
    responses=REFUSED,
)
async def dismiss_finding_op(admin: Admin, finding_id: Id, body: Dismissal) -> FindingOut:
    finding = await dismiss_finding(
        admin.session, finding_id, reason=body.reason, actor=admin.actor, now=admin.settings.now()
    )
    return shown(finding)
