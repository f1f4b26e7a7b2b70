"""Clause 4.3 through HTTP on both databases: the provider asks for verification (admin API);
the questionnaire comes from the policy; the developer answers in the portal with evidence files
(size-capped, type sniffed, names sanitised); the provider accepts or escalates to a case; an
unanswered request escalates at its deadline; bad input names its field and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from termgate.db.due_process import Case
from termgate.db.due_process_records import VerificationRequest, VerificationUpload
from termgate.due_process.verification import verification_deadlines
from tests.web.conftest import Programme, Site
from tests.web.due_process_support import (
    audit_count,
    chain_intact,
    developer_with_password,
    sign_in_developer,
)

QUESTION_IDS = ("use_case", "retention", "storage", "security", "sharing", "q1")


async def _ask(site: Site, programme: Programme, days: int = 14) -> dict[str, object]:
    response = await site.client.post(
        "/admin/api/verifications",
        json={
            "applicationId": programme.application_id,
            "note": "Routine check after a volume alert.",
            "questions": ["Which of your customers use the export?"],
            "days": days,
        },
        headers=programme.auth,
    )
    assert response.status_code == 200, response.text
    shown: dict[str, object] = response.json()
    return shown


async def _answer(site: Site, request_id: str, files: list[tuple[str, bytes]]) -> tuple[int, str]:
    page = await site.client.get(f"/portal/verifications/{request_id}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {f"answer_{q}": f"Our answer about {q}." for q in QUESTION_IDS}
    response = await site.client.post(
        f"/portal/verifications/{request_id}",
        data={**data, "csrf_token": token},
        files=[
            ("evidence", (name, content, "application/octet-stream")) for name, content in files
        ],
    )
    return response.status_code, response.text


async def test_clause_4_3_developer_answers_with_evidence_and_the_provider_accepts(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    asked = await _ask(site, programme)
    assert [q["id"] for q in asked["questions"]] == list(QUESTION_IDS)  # type: ignore[attr-defined]
    assert "Monthly salary journal" in asked["questions"][0]["question"]  # type: ignore[index]
    await sign_in_developer(site, programme.developer_email)
    status, text = await _answer(
        site,
        str(asked["id"]),
        [("../../etc/policy (final).pdf", b"%PDF-1.4 evidence"), ("notes.exe", b"plain words")],
    )
    assert status == 303, text
    async with site.sessions() as session:
        names = set(await session.scalars(select(VerificationUpload.filename)))
    assert names == {"policy_final.pdf", "notes.txt"}  # path gone, type from the content
    shown = await site.client.get(f"/admin/api/verifications/{asked['id']}", headers=programme.auth)
    assert shown.json()["state"] == "answered"
    assert shown.json()["questions"][1]["answer"] == "Our answer about retention."
    accepted = await site.client.post(
        f"/admin/api/verifications/{asked['id']}/accept",
        json={"reason": "answers are complete"},
        headers=programme.auth,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    listed = await site.client.get("/admin/api/verifications", headers=programme.auth)
    assert [row["state"] for row in listed.json()] == ["accepted"]
    assert len(listed.json()[0]["evidence"]) == 2
    case_file = await site.client.get(
        f"/admin/api/case-files/verification/{asked['id']}?format=pdf", headers=programme.auth
    )
    assert case_file.content.startswith(b"%PDF-")
    assert await chain_intact(site)


async def test_clause_4_3_unanswered_request_escalates_to_a_case_at_its_deadline(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    asked = await _ask(site, programme, days=3)
    later = site.settings.now() + timedelta(days=3, minutes=1)
    async with site.sessions.begin() as session:
        assert await verification_deadlines(session, site.settings.now()) == 0
        assert await verification_deadlines(session, later) == 1
        assert await verification_deadlines(session, later) == 0
    async with site.sessions() as session:
        request = await session.get_one(VerificationRequest, str(asked["id"]))
        assert request.state.value == "escalated"
        case = await session.get_one(Case, request.case_id)
        assert "4.3" in case.clauses
    case_file = await site.client.get(
        f"/admin/api/case-files/case/{case.id}", headers=programme.auth
    )
    assert case_file.status_code == 200, case_file.text
    assert "case-opened" in {entry["action"] for entry in case_file.json()["timeline"]}
    assert case_file.json()["audit_chain"]["intact"] is True
    refused = await site.client.post(
        f"/admin/api/verifications/{asked['id']}/accept",
        json={"reason": "late"},
        headers=programme.auth,
    )
    assert refused.status_code == 409, refused.text
    assert await chain_intact(site)


async def test_clause_4_3_bad_verification_input_changes_nothing(site: Site) -> None:
    programme = await developer_with_password(site)
    before = await audit_count(site)
    for body, field in (
        ({"applicationId": "nope"}, "applicationId"),
        ({"applicationId": programme.application_id, "days": 0}, "days"),
        ({"applicationId": programme.application_id, "questions": ["q"] * 21}, "questions"),
        ({"applicationId": programme.application_id, "note": 5}, "note"),
    ):
        response = await site.client.post(
            "/admin/api/verifications", json=body, headers=programme.auth
        )
        assert response.status_code == 400, (body, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, response.text
    assert await audit_count(site) == before

    asked = await _ask(site, programme)
    await sign_in_developer(site, programme.developer_email)
    cap = site.settings.upload_max_bytes
    for files, words in (
        ([("tool.bin", b"\x00\x01\x02binary")], "not a PDF"),
        ([("big.pdf", b"%PDF-" + b"x" * cap)], "larger than"),
        ([(f"f{n}.txt", b"text") for n in range(6)], "at most 5 files"),
    ):
        status, text = await _answer(site, str(asked["id"]), files)
        assert status == 400, (words, text)
        assert "evidence" in text
        assert words in text
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(VerificationUpload)) == 0
        request = await session.get_one(VerificationRequest, str(asked["id"]))
        assert request.state.value == "open"
