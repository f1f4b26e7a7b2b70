"""Clause 4.2 in the console and the portal: open a case by hand, the developer's notice and
reply with files, the provider's decision; bad input names the field and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from termgate.db.due_process import Case, CaseEvent, CaseFile
from termgate.db.programme import AuditEntry
from tests.web.conftest import Site, seed_programme
from tests.web.test_console import assert_accessible_forms
from tests.web.test_console import sign_in as console_sign_in
from tests.web.test_portal import sign_in, sign_up_and_verify

DEVELOPER = "cas@visser.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _counts(site: Site) -> tuple[int, ...]:
    async with site.sessions() as session:
        counts = []
        for model in (Case, CaseEvent, CaseFile, AuditEntry):
            counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        return tuple(counts)


@pytest.fixture
async def signed_in(site: Site) -> Site:
    await seed_programme(site)
    await sign_up_and_verify(site, DEVELOPER)
    await sign_in(site, DEVELOPER)
    await console_sign_in(site)
    return site


async def _open_case(site: Site, **change: str) -> str:
    form = {
        "developer": DEVELOPER,
        "clauses": "3.3 d, 4.4",
        "summary": "Every employee of 40 companies read twice a day",
        "cure_days": "",
    } | change
    response = await site.post_form("/console/cases", form)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


OPEN_REFUSALS = [
    ({"developer": ""}, "developer"),
    ({"developer": "nobody@example.nl"}, "developer"),
    ({"clauses": "42"}, "clauses"),
    ({"clauses": ""}, "clauses"),
    ({"summary": ""}, "summary"),
    ({"cure_days": "ten"}, "cure_days"),
    ({"cure_days": "400"}, "cure_days"),
    ({"application_id": "not-an-app"}, "application_id"),
]


async def test_clause_4_2_console_refuses_a_bad_case_naming_the_field(signed_in: Site) -> None:
    site = signed_in
    before = await _counts(site)
    for change, name in OPEN_REFUSALS:
        form = {"developer": DEVELOPER, "clauses": "3.3 d", "summary": "seen"} | change
        response = await site.post_form("/console/cases", form)
        assert response.status_code == 400, (change, response.status_code)
        assert re.search(rf"\b{name}\b", response.text), (change, response.text[-800:])
        assert_accessible_forms(response.text)
    assert await _counts(site) == before


async def test_clause_4_2_notice_reply_with_a_file_and_accepted_cure(signed_in: Site) -> None:
    site = signed_in
    case_id = await _open_case(site)
    console_page = await site.client.get(f"/console/cases/{case_id}")
    assert "noticed" in console_page.text
    assert_accessible_forms(console_page.text)
    inbox = await site.client.get("/portal/inbox")
    assert "Notice of a suspected breach (clause 3.3 d; 4.4)" in inbox.text
    [mail] = [m for m in await site.mail_to(DEVELOPER) if "Notice" in m.subject]
    assert f"/portal/cases/{case_id}" in mail.body
    portal_page = await site.client.get(f"/portal/cases/{case_id}")
    assert "Every employee of 40 companies" in portal_page.text
    assert_accessible_forms(portal_page.text)

    token = re.search(r'name="csrf_token" value="([^"]+)"', portal_page.text)
    assert token
    files = [("files", ("../../etc/pass wd.exe", PDF, "application/x-msdownload"))]
    sent = await site.client.post(
        f"/portal/cases/{case_id}/reply",
        data={"csrf_token": token.group(1), "body": "We now read only changed employees."},
        files=files,
    )
    assert sent.status_code == 303, sent.text
    async with site.sessions() as session:
        stored = await session.scalar(select(CaseFile))
        assert stored is not None
        assert stored.filename == "pass_wd.pdf"
        assert stored.content_type == "application/pdf"
    download = await site.client.get(f"/console/cases/{case_id}/files/{stored.id}")
    assert download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="pass_wd.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"

    accepted = await site.post_form(
        f"/console/cases/{case_id}/decide",
        {"action": "accept", "reason": "Delta sync verified"},
        f"/console/cases/{case_id}",
    )
    assert accepted.status_code == 303
    assert "cured" in (await site.client.get(f"/portal/cases/{case_id}")).text
    assert "Your reply" not in (await site.client.get(f"/portal/cases/{case_id}")).text


REPLY_REFUSALS = [
    ({"body": ""}, [], "reply"),
    ({"body": "x"}, [("files", ("a.exe", b"MZ\x90\x00\x03", "application/pdf"))], "files"),
    ({"body": "x"}, [("files", ("big.txt", b"a" * (2 * 1024 * 1024 + 1), "text/plain"))], "files"),
    ({"body": "x"}, [("files", (f"{n}.txt", b"ok", "text/plain")) for n in range(6)], "files"),
]


async def test_clause_4_2_a_bad_reply_is_refused_naming_the_field(signed_in: Site) -> None:
    site = signed_in
    case_id = await _open_case(site)
    before = await _counts(site)
    page = await site.client.get(f"/portal/cases/{case_id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    for data, files, name in REPLY_REFUSALS:
        response = await site.client.post(
            f"/portal/cases/{case_id}/reply",
            data={"csrf_token": token.group(1), **data},
            files=files or None,
        )
        assert response.status_code == 400, (name, response.status_code)
        assert f"{name}" in response.text
    assert await _counts(site) == before
    decide = await site.post_form(
        f"/console/cases/{case_id}/decide",
        {"action": "extend", "days": "0", "reason": "more time"},
        f"/console/cases/{case_id}",
    )
    assert decide.status_code == 400
    assert "days must be between 1 and 90" in decide.text
    assert await _counts(site) == before
    scheduler = await site.client.get("/console/scheduler")
    assert "cure-deadlines" in scheduler.text
