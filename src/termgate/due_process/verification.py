"""Verification (clause 4.3): the provider asks a developer for evidence about one application.

The questionnaire is built from the policy: the application's declared use case, data retention,
where the data is stored, and the security measures of clause 5.2, plus the provider's own
questions. The developer answers in the portal with evidence files by a deadline; the provider
accepts, or escalates to a case. A request still open at its deadline escalates on its own
(`verification_deadlines`, a scheduler job).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process_records import (
    VerificationRequest,
    VerificationState,
    VerificationUpload,
)
from termgate.db.models import Application, Developer
from termgate.due_process.cases import open_case
from termgate.due_process.uploads import MAX_FILES, Evidence
from termgate.governance.errors import PolicyInputError
from termgate.notify.inbox import notify_developer
from termgate.settings import Settings

POLICY_QUESTIONS = (
    ("use_case", "Describe how the application uses the data today. Declared use case: {use_case}"),
    ("retention", "How long do you keep each kind of data read through the API, and why?"),
    ("storage", "Where is the data stored (provider, country, region)?"),
    (
        "security",
        "Which security measures protect it (clause 5.2): encryption at rest and in "
        "transit, access control, logging, incident response?",
    ),
    ("sharing", "With whom do you share the data, and under which end user's consent (3.3 a, k)?"),
)
MAX_QUESTIONS = 20


def questionnaire(application: Application, extra: Sequence[str]) -> list[dict[str, str]]:
    use_case = application.use_case.strip() or "none given"
    questions = [
        {"id": key, "question": text.format(use_case=use_case)} for key, text in POLICY_QUESTIONS
    ]
    asked = [line.strip() for line in extra if line.strip()]
    if len(asked) > MAX_QUESTIONS:
        raise PolicyInputError("questions", f"at most {MAX_QUESTIONS} questions of your own")
    for number, question in enumerate(asked, 1):
        if len(question) > 1000:
            raise PolicyInputError("questions", f"question {number} is longer than 1000 characters")
        questions.append({"id": f"q{number}", "question": question})
    return questions


async def request_verification(
    session: AsyncSession,
    application_id: str,
    *,
    note: str,
    questions: Sequence[str],
    days: int | None,
    actor: str,
    settings: Settings,
) -> VerificationRequest:
    application = await session.get(Application, application_id.strip())
    if application is None:
        raise PolicyInputError("application_id", f"no application {application_id!r}")
    span = settings.verification_days if days is None else days
    if not 1 <= span <= 365:
        raise PolicyInputError("days", "days must be between 1 and 365")
    if len(note) > 5000:
        raise PolicyInputError("note", "the note is longer than 5000 characters")
    now = settings.now()
    request = VerificationRequest(
        developer_id=application.developer_id,
        application_id=application.id,
        questions=json.dumps(questionnaire(application, questions)),
        note=note.strip(),
        deadline=now + timedelta(days=span),
        requested_by=actor,
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    detail = f"application {application.id}; answer by {request.deadline:%Y-%m-%d %H:%M} UTC"
    await record(session, actor, "requested", "verification", request.id, detail)
    developer = await session.get_one(Developer, application.developer_id)
    notify_developer(
        session,
        developer,
        "verification",
        f"Verification of {application.name}",
        f"Under clause 4.3 the provider asks you to answer questions about {application.name} "
        f"by {request.deadline:%d %b %Y %H:%M} UTC, in the portal under Verifications."
        + (f"\n\n{request.note}" if request.note else ""),
    )
    return request


def questions_of(request: VerificationRequest) -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads(request.questions)
    return loaded


def answers_of(request: VerificationRequest) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(request.answers) if request.answers else {}
    return loaded


async def verification_of(session: AsyncSession, request_id: str) -> VerificationRequest:
    request = await session.get(VerificationRequest, request_id)
    if request is None:
        raise NotFoundError(f"no verification request {request_id!r}")
    return request


async def answer(
    session: AsyncSession,
    request: VerificationRequest,
    developer: Developer,
    given: dict[str, str],
    evidence: Sequence[Evidence],
    now: datetime,
) -> VerificationRequest:
    """The developer's answers to every question, with up to MAX_FILES evidence files."""
    if request.developer_id != developer.id:
        raise NotFoundError(f"no verification request {request.id!r}")
    if request.state is not VerificationState.OPEN:
        raise RegistryError(f"the request is {request.state.value}; it takes no answers now")
    answers = {}
    for question in questions_of(request):
        text = given.get(question["id"], "").strip()
        if not text or len(text) > 10_000:
            raise PolicyInputError(
                f"answers.{question['id']}", "answer this question (at most 10000 characters)"
            )
        answers[question["id"]] = text
    if len(evidence) > MAX_FILES:
        raise PolicyInputError("evidence", f"at most {MAX_FILES} files")
    for item in evidence:
        session.add(
            VerificationUpload(
                request_id=request.id,
                filename=item.filename,
                media_type=item.media_type,
                size=len(item.content),
                sha256=item.sha256,
                content=item.content,
                uploaded_at=now,
            )
        )
    request.answers = json.dumps(answers)
    request.answered_at = now
    request.state = VerificationState.ANSWERED
    files = ", ".join(f"{item.filename} sha256 {item.sha256[:16]}" for item in evidence) or "none"
    await record(
        session,
        f"developer:{developer.email}",
        "answered",
        "verification",
        request.id,
        f"evidence: {files}",
    )
    return request


async def uploads_of(
    session: AsyncSession, request: VerificationRequest
) -> list[VerificationUpload]:
    query = select(VerificationUpload).where(VerificationUpload.request_id == request.id)
    return list(await session.scalars(query.order_by(VerificationUpload.uploaded_at)))


async def decide(
    session: AsyncSession,
    request: VerificationRequest,
    *,
    accept: bool,
    reason: str,
    actor: str,
    now: datetime,
) -> VerificationRequest:
    """Accepts an answered request, or escalates an open or answered one to a case (4.2)."""
    why = reason.strip()
    if not why:
        raise PolicyInputError("reason", "give a reason; it is recorded and sent to the developer")
    allowed = (
        (VerificationState.ANSWERED,)
        if accept
        else (VerificationState.OPEN, VerificationState.ANSWERED)
    )
    if request.state not in allowed:
        verb = "accepted" if accept else "escalated"
        raise RegistryError(f"the request is {request.state.value}; it cannot be {verb}")
    await _settle(session, request, accept=accept, reason=why, actor=actor, now=now)
    return request


async def _settle(
    session: AsyncSession,
    request: VerificationRequest,
    *,
    accept: bool,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    request.state = VerificationState.ACCEPTED if accept else VerificationState.ESCALATED
    request.decided_at = now
    request.decided_by = actor
    request.decision_reason = reason
    if not accept:
        case = await open_case(
            session,
            developer_id=request.developer_id,
            application_id=request.application_id,
            clauses=["4.3"],
            summary=f"Verification {request.id} escalated: {reason}",
            actor=actor,
            now=now,
        )
        request.case_id = case.id
    action = "accepted" if accept else "escalated"
    detail = reason + (f"; case {request.case_id}" if request.case_id else "")
    await record(session, actor, action, "verification", request.id, detail)
    developer = await session.get_one(Developer, request.developer_id)
    application = await session.get_one(Application, request.application_id)
    notify_developer(
        session,
        developer,
        f"verification-{action}",
        f"Verification of {application.name} {action}",
        f"The provider {action} the verification of {application.name} (clause 4.3).\n\n"
        f"Reason: {reason}",
    )


async def list_verifications(
    session: AsyncSession, developer_id: str | None = None
) -> list[VerificationRequest]:
    query = select(VerificationRequest).order_by(VerificationRequest.requested_at.desc())
    if developer_id is not None:
        query = query.where(VerificationRequest.developer_id == developer_id)
    return list(await session.scalars(query))


async def verification_deadlines(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: every request still open at its deadline escalates."""
    query = select(VerificationRequest).where(
        VerificationRequest.state == VerificationState.OPEN, VerificationRequest.deadline <= now
    )
    acted = 0
    for request in list(await session.scalars(query)):
        reason = f"no answer by {request.deadline:%Y-%m-%d %H:%M} UTC (clause 4.3)"
        await _settle(
            session,
            request,
            accept=False,
            reason=reason,
            actor="scheduler",
            now=now,
        )
        acted += 1
    return acted
