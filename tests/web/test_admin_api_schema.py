"""Schemathesis against the admin API's own OpenAPI document: no 5xx, no response off-schema.

Hypothesis runs in a worker thread (it is synchronous); each generated request is sent by the
test's httpx client on the test's event loop, so the app, its engine and the mail capture all
stay on one loop. The run is bounded and derandomized, hence deterministic.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.due_process_records import TerminationGround
from termgate.db.models import Developer, Subscription
from termgate.db.programme import AdminRole
from termgate.due_process.cases import open_case
from termgate.due_process.incidents import IncidentInput, report_incident
from termgate.due_process.termination import terminate
from termgate.due_process.verification import request_verification
from termgate.governance.lifecycle import LifecycleState, set_lifecycle
from termgate.governance.maintenance_calendar import add_window
from termgate.governance.operations import remember
from termgate.monitoring.findings import FindingDraft, record_finding
from termgate.registry.admin_tokens import issue_token
from termgate.registry.admins import create_administrator
from termgate.registry.developers import create_developer
from tests.support.contract import published_document
from tests.web.conftest import Site, seed_programme

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BASE = "http://portal.test/admin/api"
DEPRECATED = "getCompanies"


def _known_ids(
    programme: Any,
    plan_id: str,
    exception_id: str,
    colleague: tuple[str, str],
    case_id: str,
    due_process: dict[str, str],
    finding_id: str,
) -> dict[str, str]:
    return {
        **due_process,
        "case_id": case_id,
        "finding_id": finding_id,
        "administrator_id": colleague[0],
        "token_id": colleague[1],
        "exception_id": exception_id,
        "plan_id": plan_id,
        "product_slug": "production",
        "plan_slug": "standard",
        "developer_id": programme.developer_id,
        "application_id": programme.application_id,
        "subscription_id": programme.subscription_id,
        "key_id": programme.key_id,
        "review_id": programme.review_id,
        "version": "1.0",
    }


def _valid_bodies(now: datetime, programme: Any) -> dict[str, dict[str, Any]]:
    """Bodies naming a real operation and future dates, which random data almost never does."""
    start = now + timedelta(days=7)
    return {
        "POST /cases": {
            "developerId": programme.developer_id,
            "clauses": ["4.4"],
            "summary": "Over the quota every day",
        },
        "POST /cases/{case_id}/extend": {"days": 3, "reason": "asked"},
        "POST /developers": {"email": "schema@example.nl", "name": "Schema Check"},
        "POST /products": {"slug": "gold", "name": "Gold", "environment": "production"},
        "PUT /lifecycle": {
            "operations": [DEPRECATED],
            "state": "deprecated",
            "sunsetAt": (now + timedelta(days=90)).isoformat(),
        },
        "POST /lifecycle/brownouts": {
            "operations": [DEPRECATED],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        "PATCH /administrators/{administrator_id}": {"role": "operator"},
        "POST /administrators/{administrator_id}/tokens": {"label": "ci"},
        "POST /incidents/{incident_id}/triage": {"state": "triaged", "reason": "read"},
        "POST /incidents/{incident_id}/contain": {"scope": "application"},
        "POST /incidents/{incident_id}/notify": {"text": "Your data may have leaked."},
        "POST /developers/{developer_id}/terminate": {"ground": "other", "reason": "ended"},
        "POST /verifications/{verification_id}/accept": {"reason": "complete"},
        "POST /verifications/{verification_id}/escalate": {"reason": "no answer"},
        "POST /announcements": {
            "title": "Companies list changes",
            "body": "The companies list gains a field.",
            "operations": [DEPRECATED],
        },
    }


async def _due_process_records(session: AsyncSession, site: Site, programme: Any) -> dict[str, str]:
    """An incident report, a verification request and the termination of another developer,
    so the due-process operations have real ids to act on."""
    developer = await session.get_one(Developer, programme.developer_id)
    incident = await report_incident(
        session,
        developer,
        IncidentInput(programme.application_id, "A leak", "2026-01-01T00:00", "", "", ""),
        site.settings,
    )
    asked = await request_verification(
        session,
        programme.application_id,
        note="",
        questions=[],
        days=None,
        actor="tests",
        settings=site.settings,
    )
    other = await create_developer(session, email="gone@example.nl", name="Gone", actor="tests")
    ended = await terminate(
        session,
        other.id,
        ground=TerminationGround.OTHER,
        reason="tests",
        actor="tests",
        settings=site.settings,
    )
    return {
        "incident_id": incident.id,
        "verification_id": asked.id,
        "termination_id": ended.id,
        "record_id": asked.id,
    }


def _examples(operation: Any) -> list[Any]:
    body = operation.definition.raw.get("requestBody", {})
    examples = body.get("content", {}).get("application/json", {}).get("examples", {})
    return [example["value"] for example in examples.values()]


async def test_clause_3_1_admin_api_conforms_to_its_openapi_document(site: Site) -> None:
    programme = await seed_programme(site)
    loop = asyncio.get_running_loop()
    document = (await site.client.get("/admin/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    async with site.sessions.begin() as session:
        subscription = await session.get_one(Subscription, programme.subscription_id)
        now = site.settings.now()
        extra = await add_window(session, now + timedelta(days=30), 30, "tests", "tests", now)
        await set_lifecycle(
            session,
            [DEPRECATED],
            LifecycleState.DEPRECATED,
            actor="tests",
            now=now,
            sunset_at=now + timedelta(days=90),
        )
        # Another administrator and token, so the owner's own token is never the one revoked.
        colleague = await create_administrator(
            session, email="lee@provider.example", name="Lee", role=AdminRole.VIEWER
        )
        token, _ = await issue_token(session, colleague, "colleague")
        colleague_ids = (colleague.id, token.id)
        case = await open_case(
            session,
            developer_id=programme.developer_id,
            application_id=None,
            clauses=["4.4"],
            summary="Over the quota",
            actor="tests",
            now=now,
        )
        due_process = await _due_process_records(session, site, programme)
        draft = FindingDraft(
            "probing",
            "3.3 c",
            "major",
            programme.developer_id,
            programme.application_id,
            None,
            "probing:application",
            "60 of 80 requests refused",
            {"requests": 80},
        )
        finding = await record_finding(session, draft, now=now, simulated=False)
    # The API's operations, as the control plane would read them from the upstream.
    remember(site.settings, published_document())
    valid = _valid_bodies(now, programme)
    valid["POST /verifications"] = {"applicationId": programme.application_id}
    known = _known_ids(
        programme, subscription.plan_id, extra.id, colleague_ids, case.id, due_process, finding.id
    )
    failures: list[str] = []
    answered: dict[str, set[int]] = {}

    def exercise(operation: Any) -> None:
        names = {p["name"] for p in operation.definition.raw.get("parameters", [])} & known.keys()
        strategy = operation.as_strategy()
        real = {name: known[name] for name in names}
        if operation.label in valid:
            body = valid[operation.label]
            strategy = st.one_of(strategy, operation.as_strategy(path_parameters=real, body=body))
        if names:
            strategy = st.one_of(strategy, operation.as_strategy(path_parameters=real))
            # A documented example body, with real ids, must be accepted as it stands.
            for example in _examples(operation):
                documented = operation.as_strategy(path_parameters=real, body=example)
                strategy = st.one_of(strategy, documented)

        @settings(
            max_examples=12,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def run(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=BASE, headers=programme.auth)
            kwargs.pop("cookies", None)
            response = asyncio.run_coroutine_threadsafe(site.client.request(**kwargs), loop).result(
                timeout=60
            )
            answered.setdefault(operation.label, set()).add(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS)
            except AssertionError as failure:
                failures.append(f"{operation.label}: {failure}")
                raise

        run()

    for result in schema.get_all_operations():
        await asyncio.to_thread(exercise, result.ok())
    assert not failures
    reached = {label for label, codes in answered.items() if codes & {200, 201, 409}}
    assert reached == set(answered), {k: v for k, v in answered.items() if k not in reached}
