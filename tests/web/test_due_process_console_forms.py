"""Clauses 4.3, 5.1 and 6.2 in the console: a bad verification request, incident decision or
termination is refused with a 400 that names the field, and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from termgate.db.due_process_records import IncidentReport, Termination, VerificationRequest
from termgate.db.models import Developer
from termgate.db.programme import AuditEntry
from termgate.due_process.incidents import IncidentInput, report_incident
from tests.web.conftest import Site, seed_programme
from tests.web.test_console import assert_accessible_forms
from tests.web.test_console import sign_in as console_sign_in

MODELS = (AuditEntry, VerificationRequest, IncidentReport, Termination)


async def _counts(site: Site) -> tuple[int, ...]:
    async with site.sessions() as session:
        return tuple(
            [int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in MODELS]
        )


async def _refused(site: Site, path: str, form: dict[str, str], name: str, page: str) -> None:
    response = await site.post_form(path, form, page)
    assert response.status_code == 400, (path, form, response.status_code)
    assert re.search(rf"\b{name}\b", response.text), (form, response.text[-800:])
    assert_accessible_forms(response.text)


async def test_clause_4_3_5_1_6_2_console_forms_refuse_bad_input_naming_the_field(
    site: Site,
) -> None:
    programme = await seed_programme(site)
    async with site.sessions.begin() as session:
        developer = await session.get_one(Developer, programme.developer_id)
        incident = await report_incident(
            session,
            developer,
            IncidentInput(programme.application_id, "A leak", "2026-01-01T00:00", "", "", ""),
            site.settings,
        )
    await console_sign_in(site)
    before = await _counts(site)

    asked = {"application_id": programme.application_id, "note": "", "questions": ""}
    for change, name in (
        ({"application_id": "no-such-app"}, "application_id"),
        ({"days": "²"}, "days"),
        ({"days": "ten"}, "days"),
    ):
        await _refused(
            site, "/console/verifications", asked | change, name, "/console/verifications"
        )

    ended = {"developer_id": programme.developer_id, "ground": "other", "reason": "tests"}
    for change, name in (
        ({"developer_id": "nobody"}, "developer id"),
        ({"ground": "boredom"}, "ground"),
        ({"reason": "  "}, "reason"),
    ):
        await _refused(site, "/console/terminations", ended | change, name, "/console/terminations")

    at = f"/console/incidents/{incident.id}"
    await _refused(site, f"{at}/triage", {"state": "forgotten", "reason": "x"}, "state", at)
    await _refused(site, f"{at}/contain", {"scope": "everything", "reason": "x"}, "scope", at)
    await _refused(site, f"{at}/notify", {"text": ""}, "text", at)

    assert await _counts(site) == before
