"""The admin REST API: bearer tokens, every resource, problems for bad input, nothing changed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.db.models import Application, Developer, Status
from termgate.db.programme import AuditEntry, InboxMessage
from termgate.problems import ERROR_TYPES
from termgate.registry.reviews import request_production
from termgate.web.admin_api import create_admin_api
from tests.web.conftest import ADMIN_EMAIL, Programme, Site, seed_programme

# The audit trail names the token by its label, and whose it is.
ACTOR = f"token:tests ({ADMIN_EMAIL})"

PROBLEM = "application/problem+json"


@pytest.fixture
async def programme(site: Site) -> Programme:
    return await seed_programme(site)


async def audit_count(site: Site) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def assert_problem(
    response: Any, status: int, code: int, clause: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "httpStatus", "title", "status", "detail", "code", "clause"} <= body.keys()
    assert body["status"] == body["httpStatus"] == status
    assert body["type"] in ERROR_TYPES
    assert body["code"] == code
    if clause is not None:
        assert body["clause"] == clause
    return body


async def test_clause_3_1_admin_api_refuses_without_a_valid_token(
    site: Site, programme: Programme
) -> None:
    missing = await site.client.get("/admin/api/developers")
    assert_problem(missing, 401, 40101, "1")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await site.client.get(
        "/admin/api/developers", headers={"Authorization": "Bearer tga_not-a-token"}
    )
    assert_problem(wrong, 401, 40102)
    basic = await site.client.get("/admin/api/developers", headers={"Authorization": "Basic eDp5"})
    assert_problem(basic, 401, 40101)
    before = await audit_count(site)
    refused = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/suspend",
        json={"reason": "no token"},
        headers={"Authorization": "Bearer tga_wrong"},
    )
    assert_problem(refused, 401, 40102, "4.2")
    assert await audit_count(site) == before


async def test_clause_3_1_admin_api_lists_and_shows_developers_and_applications(
    site: Site, programme: Programme
) -> None:
    listing = await site.client.get("/admin/api/developers", headers=programme.auth)
    assert listing.status_code == 200
    body = listing.json()
    assert body["pagination"] == {
        "pageNumber": 1,
        "pageSize": 20,
        "totalPages": 1,
        "totalRecords": 1,
    }
    assert body["data"][0]["email"] == programme.developer_email
    detail = await site.client.get(
        f"/admin/api/developers/{programme.developer_id}", headers=programme.auth
    )
    assert detail.json()["applications"][0]["id"] == programme.application_id
    assert detail.json()["acceptedTerms"] == ["1.0"]

    apps = await site.client.get(
        "/admin/api/applications",
        params={"developerId": programme.developer_id},
        headers=programme.auth,
    )
    assert [a["name"] for a in apps.json()["data"]] == ["Salary sync"]
    app = await site.client.get(
        f"/admin/api/applications/{programme.application_id}", headers=programme.auth
    )
    [subscription] = app.json()["subscriptions"]
    assert subscription["product"] == "sandbox"
    assert subscription["keys"][0]["prefix"] == programme.key_prefix
    assert "keyHash" not in subscription["keys"][0]

    subscriptions = await site.client.get("/admin/api/subscriptions", headers=programme.auth)
    assert subscriptions.json()["data"][0]["id"] == programme.subscription_id
    keys = await site.client.get(
        "/admin/api/keys",
        params={"applicationId": programme.application_id},
        headers=programme.auth,
    )
    assert [k["id"] for k in keys.json()["data"]] == [programme.key_id]


async def test_clause_3_1_admin_api_unknown_ids_are_404_problems(
    site: Site, programme: Programme
) -> None:
    for path in ("developers/nope", "applications/nope", "terms/9.9", "terms/9.9/acceptances"):
        response = await site.client.get(f"/admin/api/{path}", headers=programme.auth)
        assert_problem(response, 404, 40401)
    before = await audit_count(site)
    for kind in ("developers", "applications", "subscriptions", "keys"):
        response = await site.client.post(
            f"/admin/api/{kind}/nope/suspend", json={"reason": "x"}, headers=programme.auth
        )
        assert_problem(response, 404, 40401, "4.2")
    response = await site.client.post(
        "/admin/api/reviews/nope/approve", json={}, headers=programme.auth
    )
    assert_problem(response, 404, 40401, "3.2")
    unknown = await site.client.get("/admin/api/nothing-here", headers=programme.auth)
    assert_problem(unknown, 404, 40401)
    wrong_method = await site.client.delete("/admin/api/developers", headers=programme.auth)
    assert_problem(wrong_method, 405, 40501)
    assert wrong_method.headers["allow"] == "GET"
    assert await audit_count(site) == before


async def test_clause_3_1_admin_api_bad_bodies_are_400_with_invalid_params(
    site: Site, programme: Programme
) -> None:
    before = await audit_count(site)
    suspend = f"/admin/api/developers/{programme.developer_id}/suspend"
    cases: list[tuple[Any, str]] = [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({}, "reason"),
        ({"reason": "ok", "extra": 1}, "extra"),
        ({"reason": 42}, "reason"),
        ({"reason": "nul \u0000 byte"}, "reason"),
    ]
    for body, name in cases:
        response = await site.client.post(suspend, json=body, headers=programme.auth)
        problem = assert_problem(response, 400, 40001, "4.2")
        assert name in [p["name"] for p in problem["invalid-params"]], problem
    not_json = await site.client.post(
        suspend, content=b"reason=x", headers={**programme.auth, "content-type": "text/plain"}
    )
    assert_problem(not_json, 400, 40001)
    broken = await site.client.post(
        suspend,
        content=b'{"reason": ',
        headers={**programme.auth, "content-type": "application/json"},
    )
    assert [p["name"] for p in assert_problem(broken, 400, 40001, "4.2")["invalid-params"]] == [
        "body"
    ]
    bad_page = await site.client.get(
        "/admin/api/developers", params={"pageSize": "500"}, headers=programme.auth
    )
    assert [p["name"] for p in assert_problem(bad_page, 400, 40001)["invalid-params"]] == [
        "pageSize"
    ]
    bad_terms = await site.client.post(
        "/admin/api/terms",
        json={"version": "2.0", "title": "Terms", "body": "x", "reacceptDays": -1},
        headers=programme.auth,
    )
    assert_problem(bad_terms, 400, 40001, "9")
    assert await audit_count(site) == before
    async with site.sessions() as session:
        developer = await session.get_one(Developer, programme.developer_id)
        assert developer.status is Status.ACTIVE


async def test_clause_4_2_admin_api_suspends_and_reinstates_every_kind_with_audit(
    site: Site, programme: Programme
) -> None:
    parties = {
        "developers": programme.developer_id,
        "applications": programme.application_id,
        "subscriptions": programme.subscription_id,
        "keys": programme.key_id,
    }
    for plural, party_id in parties.items():
        base = f"/admin/api/{plural}/{party_id}"
        suspended = await site.client.post(
            f"{base}/suspend", json={"reason": f"probe of {plural}"}, headers=programme.auth
        )
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"
        assert suspended.json()["statusReason"] == f"probe of {plural}"
        again = await site.client.post(
            f"{base}/suspend", json={"reason": "twice"}, headers=programme.auth
        )
        assert_problem(again, 409, 40901, "4.2")
        reinstated = await site.client.post(
            f"{base}/reinstate", json={"reason": "cured"}, headers=programme.auth
        )
        assert reinstated.json()["status"] == "active"

    audit = (await site.client.get("/admin/api/audit", headers=programme.auth)).json()
    assert audit["chainIntact"] is True
    actions = [(e["action"], e["entity"], e["actor"]) for e in audit["data"][:8]]
    assert ("suspended", "developer", ACTOR) in actions
    assert ("reinstated", "key", ACTOR) in actions
    async with site.sessions() as session:
        assert await verify_chain(session) is None
        notices = await session.scalar(
            select(func.count()).where(InboxMessage.developer_id == programme.developer_id)
        )
        assert notices == 8


async def test_clause_2_admin_api_revokes_a_key_for_good(site: Site, programme: Programme) -> None:
    revoke = f"/admin/api/keys/{programme.key_id}/revoke"
    revoked = await site.client.post(revoke, json={"reason": "leaked"}, headers=programme.auth)
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revokedAt"]
    again = await site.client.post(revoke, json={"reason": "leaked"}, headers=programme.auth)
    assert_problem(again, 409, 40901, "2")
    reinstate = await site.client.post(
        f"/admin/api/keys/{programme.key_id}/reinstate",
        json={"reason": "oops"},
        headers=programme.auth,
    )
    assert_problem(reinstate, 409, 40901, "4.2")


async def test_clause_3_2_admin_api_approves_and_rejects_production_requests(
    site: Site, programme: Programme
) -> None:
    queue = (await site.client.get("/admin/api/reviews", headers=programme.auth)).json()
    [review] = queue["data"]
    assert review["id"] == programme.review_id
    assert review["requestedScopes"] == ["employee.employment.read"]
    assert review["note"] == "Launching in March"

    reject = f"/admin/api/reviews/{programme.review_id}/reject"
    no_reason = await site.client.post(reject, json={}, headers=programme.auth)
    assert_problem(no_reason, 400, 40001, "3.2")
    rejected = await site.client.post(
        reject, json={"reason": "Describe the retention period."}, headers=programme.auth
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["decidedBy"] == ACTOR
    again = await site.client.post(
        f"/admin/api/reviews/{programme.review_id}/approve", headers=programme.auth
    )
    assert_problem(again, 409, 40901, "3.2")
    [mail] = await site.mail_to(programme.developer_email)
    assert "rejected" in mail.subject
    assert "Describe the retention period." in mail.body

    async with site.sessions.begin() as session:
        application = await session.get_one(Application, programme.application_id)
        second = await request_production(
            session, application, "Added the retention period", programme.developer_email
        )
    approved = await site.client.post(
        f"/admin/api/reviews/{second.id}/approve", headers=programme.auth
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    app = await site.client.get(
        f"/admin/api/applications/{programme.application_id}", headers=programme.auth
    )
    assert app.json()["environment"] == "production"
    assert (await site.client.get("/admin/api/reviews", headers=programme.auth)).json()[
        "data"
    ] == []


async def test_clause_9_admin_api_publishes_terms_and_lists_acceptances(
    site: Site, programme: Programme
) -> None:
    versions = (await site.client.get("/admin/api/terms", headers=programme.auth)).json()["data"]
    assert [(v["version"], v["current"]) for v in versions] == [("1.0", True)]
    accepted = await site.client.get("/admin/api/terms/1.0/acceptances", headers=programme.auth)
    assert [a["developerEmail"] for a in accepted.json()["data"]] == [programme.developer_email]

    published = await site.client.post(
        "/admin/api/terms",
        json={
            "version": "2.0",
            "title": "API Terms of Use",
            "body": "New text.",
            "changeSummary": "Shorter.",
            "reacceptDays": 14,
        },
        headers=programme.auth,
    )
    assert published.status_code == 201, published.text
    assert published.headers["location"] == "/admin/api/terms/2.0"
    assert published.json()["current"] is True
    assert published.json()["publishedBy"] == ACTOR
    duplicate = await site.client.post(
        "/admin/api/terms",
        json={"version": "2.0", "title": "Again", "body": "x"},
        headers=programme.auth,
    )
    assert_problem(duplicate, 409, 40901, "9")
    shown = await site.client.get("/admin/api/terms/2.0", headers=programme.auth)
    assert shown.json()["body"] == "New text."
    [mail] = [m for m in await site.mail_to(programme.developer_email) if "2.0" in m.subject]
    assert "Shorter." in mail.body


async def test_admin_api_publishes_its_openapi_document(site: Site) -> None:
    response = await site.client.get("/admin/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {
        "listDevelopers",
        "suspendDeveloper",
        "reinstateApplication",
        "approveReview",
        "rejectReview",
        "revokeKey",
        "publishTerms",
        "listAcceptances",
        "listAudit",
    } <= operations
    suspend = document["paths"]["/developers/{developer_id}/suspend"]["post"]
    assert suspend["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StatusChange"
    }
    assert {"200", "400", "401", "404", "409"} <= suspend["responses"].keys()
    assert document["components"]["schemas"]["StatusChange"]["additionalProperties"] is False


async def test_clause_3_1_unmatchable_admin_path_is_a_problem_not_a_page(site: Site) -> None:
    response = await site.client.get("/admin/api/developers/a%0Ab")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == 40401


def test_clause_3_1_every_admin_operation_names_a_clause_of_the_terms() -> None:
    """Each operation's refusals carry its `x-clause`: it must be a clause the terms define."""
    policy = tomllib.loads((Path(__file__).parents[2] / "terms" / "policy.toml").read_text())
    clauses = {clause["id"] for clause in policy["clause"]}
    document = create_admin_api().openapi()
    named = {
        operation["operationId"]: operation["x-clause"]
        for path in document["paths"].values()
        for operation in path.values()
    }
    assert len(named) >= 30
    assert set(named.values()) <= clauses, set(named.values()) - clauses
    assert named["suspendDeveloper"] == "4.2"
    assert named["changePlanLimits"] == "4.4"
    assert named["setMaintenanceRule"] == "8"
    assert named["addBrownout"] == "4.6"
    assert named["revokeKey"] == "2"
    assert named["publishTerms"] == "9"
    for path in document["paths"].values():
        for operation in path.values():
            assert "422" not in operation["responses"]
            assert {"400", "401"} <= operation["responses"].keys()
