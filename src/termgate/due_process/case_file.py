"""The case file (issue 13, item 7): one case, incident, termination or verification as a
document for the provider's legal team, in JSON, HTML and PDF, with its record, timeline,
evidence and the proof that its audit entries belong to an intact hash chain.

The proof lists each entry of the timeline with its own and its predecessor's hash, the result of
walking the whole chain (`verify_chain`) and the chain's head hash at export; anyone holding a
later export can check the head still follows.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import verify_chain
from termgate.db.due_process import CaseFile
from termgate.db.due_process_records import Termination
from termgate.db.models import Application
from termgate.db.programme import AuditEntry
from termgate.due_process.attestations import (
    attestation_document,
    attestation_of,
    verify_attestation,
)
from termgate.due_process.cases import get_case, timeline
from termgate.due_process.incidents import affected_ids, clock, incident_of
from termgate.due_process.termination import termination_of
from termgate.due_process.verification import (
    answers_of,
    questions_of,
    uploads_of,
    verification_of,
)
from termgate.governance.errors import PolicyInputError

KINDS = ("case", "incident", "termination", "verification")
TEMPLATES = Path(__file__).parent / "templates"
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)), trim_blocks=True
)


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "reason": entry.reason,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }


async def _timeline(session: AsyncSession, ids: set[str]) -> list[dict[str, Any]]:
    query = select(AuditEntry).where(AuditEntry.entity_id.in_(sorted(ids))).order_by(AuditEntry.id)
    return [_entry(entry) for entry in await session.scalars(query)]


async def _chain(session: AsyncSession) -> dict[str, Any]:
    broken = await verify_chain(session)
    head = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    return {
        "intact": broken is None,
        "first_broken_entry": broken,
        "head_entry": head.id if head else None,
        "head_hash": head.hash if head else None,
        "how_to_check": "each entry's hash is SHA-256 over its predecessor's hash, time, actor, "
        "action, entity, entity id and reason joined by U+001F",
    }


async def _incident(session: AsyncSession, record_id: str, now: datetime) -> dict[str, Any]:
    incident = await incident_of(session, record_id)
    left = clock(incident, now)
    return {
        "title": f"Incident report {incident.id} (clause 5.1)",
        "record": {
            "developer_id": incident.developer_id,
            "application_id": incident.application_id,
            "state": incident.state.value,
            "summary": incident.summary,
            "discovered_at": incident.discovered_at.isoformat(),
            "reported_at": incident.reported_at.isoformat(),
            "notify_by": left.deadline.isoformat(),
            "clock": left.words,
            "affected_end_users": affected_ids(incident),
            "data_categories": incident.data_categories,
            "containment_by_developer": incident.containment,
            "contained_at": _iso(incident.contained_at),
            "end_users_notified_at": _iso(incident.end_users_notified_at),
            "closed_at": _iso(incident.closed_at),
        },
        "evidence": [],
        "ids": {incident.id},
    }


async def _termination(session: AsyncSession, record_id: str, _now: datetime) -> dict[str, Any]:
    termination: Termination = await termination_of(session, record_id)
    attestation = await attestation_of(session, termination)
    evidence: list[dict[str, Any]] = []
    if attestation is not None:
        problems = await verify_attestation(session, attestation)
        evidence.append(
            {
                "deletion_attestation": attestation_document(attestation),
                "verified": not problems,
                "problems": problems,
            }
        )
    applications = set(
        await session.scalars(
            select(Application.id).where(Application.developer_id == termination.developer_id)
        )
    )
    return {
        "title": f"Termination {termination.id} (clauses 6.2-6.4)",
        "record": {
            "developer_id": termination.developer_id,
            "ground": termination.ground.value,
            "reason": termination.reason,
            "by": termination.actor,
            "terminated_at": termination.terminated_at.isoformat(),
            "keys_revoked": termination.keys_revoked,
            "token_families_revoked": termination.token_families_revoked,
            "consents_withdrawn": termination.consents_withdrawn,
            "end_users_told": termination.end_users_told,
            "attestation_due_at": termination.attestation_due_at.isoformat(),
            "attestation_overdue_at": _iso(termination.attestation_overdue_at),
            "attested": attestation is not None,
        },
        "evidence": evidence,
        "ids": {termination.id, termination.developer_id, *applications},
    }


async def _verification(session: AsyncSession, record_id: str, _now: datetime) -> dict[str, Any]:
    request = await verification_of(session, record_id)
    answers = answers_of(request)
    return {
        "title": f"Verification {request.id} (clause 4.3)",
        "record": {
            "developer_id": request.developer_id,
            "application_id": request.application_id,
            "state": request.state.value,
            "requested_by": request.requested_by,
            "requested_at": request.requested_at.isoformat(),
            "deadline": request.deadline.isoformat(),
            "note": request.note,
            "questions_and_answers": [
                {**question, "answer": answers.get(question["id"])}
                for question in questions_of(request)
            ],
            "answered_at": _iso(request.answered_at),
            "decided_by": request.decided_by,
            "decision_reason": request.decision_reason,
            "case_id": request.case_id,
        },
        "evidence": [
            {
                "file": upload.filename,
                "media_type": upload.media_type,
                "bytes": upload.size,
                "sha256": upload.sha256,
                "uploaded_at": upload.uploaded_at.isoformat(),
            }
            for upload in await uploads_of(session, request)
        ],
        "ids": {request.id},
    }


async def _case(session: AsyncSession, record_id: str, _now: datetime) -> dict[str, Any]:
    case = await get_case(session, record_id)
    files = await session.scalars(select(CaseFile).where(CaseFile.case_id == case.id))
    return {
        "title": f"Case {case.id} (clauses {case.clauses})",
        "record": {
            "developer_id": case.developer_id,
            "application_id": case.application_id,
            "clauses": case.clauses,
            "summary": case.summary,
            "state": case.state,
            "opened_by": case.opened_by,
            "opened_at": case.opened_at.isoformat(),
            "cure_deadline": _iso(case.cure_deadline),
            "terminate_at": _iso(case.terminate_at),
            "closed_at": _iso(case.closed_at),
            "findings": json.loads(case.finding_ids),
            "events": [
                {
                    "at": event.at.isoformat(),
                    "kind": event.kind,
                    "actor": event.actor,
                    "side": event.side,
                    "body": event.body,
                }
                for event in await timeline(session, case)
            ],
        },
        "evidence": [
            {
                "file": row.filename,
                "media_type": row.content_type,
                "bytes": row.size,
                "sha256": row.sha256,
            }
            for row in files
        ],
        "ids": {case.id},
    }


READERS = {
    "case": _case,
    "incident": _incident,
    "termination": _termination,
    "verification": _verification,
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def case_file(
    session: AsyncSession, kind: str, record_id: str, now: datetime
) -> dict[str, Any]:
    """The JSON document of one record; `NotFoundError` for an unknown id."""
    reader = READERS.get(kind)
    if reader is None:
        raise PolicyInputError("kind", f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    read = await reader(session, record_id, now)
    ids = read.pop("ids")
    return {
        "kind": kind,
        "id": record_id,
        "generated_at": now.isoformat(),
        **read,
        "timeline": await _timeline(session, ids),
        "audit_chain": await _chain(session),
    }


def as_html(document: dict[str, Any]) -> str:
    return _templates.get_template("case_file.html").render(doc=document)


def _latin(text: object) -> str:
    """The PDF's core fonts hold Latin-1; anything else prints as '?'."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _lines(value: object, indent: str = "") -> list[str]:
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list):
                lines += [f"{indent}{key}:", *_lines(item, indent + "    ")]
            else:
                lines.append(f"{indent}{key}: {'' if item is None else item}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            lines += (
                _lines(item, indent + "- ") if isinstance(item, dict) else [f"{indent}- {item}"]
            )
        return lines
    return [f"{indent}{value}"]


def as_pdf(document: dict[str, Any]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin(document["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(
        0, 5, _latin(f"Generated {document['generated_at']}"), new_x="LMARGIN", new_y="NEXT"
    )
    for heading, key in (
        ("Record", "record"),
        ("Evidence", "evidence"),
        ("Timeline", "timeline"),
        ("Audit chain proof", "audit_chain"),
    ):
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", size=7)
        for line in _lines(document[key]) or ["(none)"]:
            pdf.multi_cell(
                0, 4, _latin(line), new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
            )
    return bytes(pdf.output())
