"""The admin API creates developers, applications, subscriptions and keys: each creation is
audited with the administrator as its actor, a key works at the gateway's snapshot, and bad
input is a problem naming the field with nothing created."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from sqlalchemy import func, select

from termgate.core.secrets import hash_key
from termgate.db.models import Application, Developer, Subscription, SubscriptionKey
from termgate.db.programme import AuditEntry, TermsAcceptance
from termgate.gateway.snapshot import load_snapshot
from termgate.registry.applications import USE_CASE_CATEGORIES
from termgate.registry.products import find_plan
from termgate.web.admin_api.models import Category
from tests.web.conftest import ADMIN_ACTOR, Programme, Site, seed_programme
from tests.web.test_admin_api import assert_problem

API = "/admin/api"
KEY_SHAPE = re.compile(r"^tg_[A-Za-z0-9_-]{43}$")
LINK = re.compile(r"http://portal\.test(/portal/reset\?token=[\w-]+)")
MADE = (Developer, Application, Subscription, SubscriptionKey, AuditEntry, TermsAcceptance)


@pytest.fixture
async def programme(site: Site) -> Programme:
    return await seed_programme(site)


async def sandbox_plan(site: Site) -> str:
    async with site.sessions() as session:
        plan = await find_plan(session, "sandbox")
        return f"sandbox/{plan.slug}"


async def counts(site: Site) -> dict[str, int]:
    async with site.sessions() as session:
        return {
            kind.__name__: int(await session.scalar(select(func.count()).select_from(kind)) or 0)
            for kind in MADE
        }


async def audited(site: Site, entity_id: str) -> list[tuple[str, str, str]]:
    async with site.sessions() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == entity_id).order_by(AuditEntry.id)
        )
        return [(e.actor, e.action, e.entity) for e in entries]


async def onboard(site: Site, auth: dict[str, str], email: str) -> dict[str, Any]:
    """Developer → application → subscription → key, through the API; every step's answer."""
    developer = await site.client.post(
        f"{API}/developers",
        json={
            "email": email,
            "name": "Cas Visser",
            "organisation": "Visser ICT",
            "acceptTerms": True,
        },
        headers=auth,
    )
    assert developer.status_code == 201, developer.text
    made = {"developer": developer.json()}
    application = await site.client.post(
        f"{API}/developers/{made['developer']['id']}/applications",
        json={
            "name": "Ledger bridge",
            "useCase": "Journal entries for the customer's own books.",
            "useCaseCategory": "accounting",
            "requestedScopes": ["employee.employment.read"],
            "redirectUris": ["https://bridge.example/callback", "http://localhost:8080/cb"],
            "expectedEndUsers": 40,
        },
        headers=auth,
    )
    assert application.status_code == 201, application.text
    made["application"] = application.json()
    subscription = await site.client.post(
        f"{API}/applications/{made['application']['id']}/subscriptions",
        json={"plan": await sandbox_plan(site)},
        headers=auth,
    )
    assert subscription.status_code == 201, subscription.text
    made["subscription"] = subscription.json()
    key = await site.client.post(
        f"{API}/subscriptions/{made['subscription']['id']}/keys", headers=auth
    )
    assert key.status_code == 201, key.text
    assert key.headers["cache-control"] == "no-store"
    made["key"] = key.json()
    return made


async def test_clause_2_admin_api_creates_a_developer_whose_key_is_in_the_gateway_snapshot(
    site: Site, programme: Programme
) -> None:
    made = await onboard(site, programme.auth, " Cas@Visser.example ")
    developer, application = made["developer"], made["application"]
    assert developer["email"] == "cas@visser.example"
    assert developer["emailVerified"] is False
    assert not {"password", "passwordHash"} & developer.keys()
    assert application["developerId"] == developer["id"]
    assert application["environment"] == "sandbox"
    assert application["requestedScopes"] == ["employee.employment.read"]
    assert made["subscription"]["applicationId"] == application["id"]
    key = made["key"]
    assert KEY_SHAPE.match(key["secret"])
    assert key["secret"].startswith(key["prefix"])
    assert key["slot"] == "primary"
    async with site.sessions() as session:
        grant = (await load_snapshot(session)).keys[hash_key(key["secret"])]
        stored = await session.get_one(SubscriptionKey, key["id"])
        redirect_uris = (await session.get_one(Application, application["id"])).redirect_uris
    assert (grant.key_id, grant.application_id, grant.developer_id) == (
        key["id"],
        application["id"],
        developer["id"],
    )
    assert stored.key_hash != key["secret"]
    assert redirect_uris == "https://bridge.example/callback\nhttp://localhost:8080/cb"
    # The secret is never shown again.
    listed = await site.client.get(
        f"{API}/applications/{application['id']}", headers=programme.auth
    )
    assert key["secret"] not in listed.text


async def test_clause_4_2_each_creation_is_audited_with_the_administrator_as_actor(
    site: Site, programme: Programme
) -> None:
    made = await onboard(site, programme.auth, "cas@visser.example")
    for kind, action in (
        ("developer", "created"),
        ("application", "created"),
        ("subscription", "created"),
        ("key", "issued"),
    ):
        assert (await audited(site, made[kind]["id"]))[0] == (ADMIN_ACTOR, action, kind)
    # The developer accepted offline (a signed agreement); the administrator recorded it, so the
    # trail names the administrator as actor and the developer in the reason.
    assert (await audited(site, made["developer"]["id"]))[1:] == [
        (ADMIN_ACTOR, "accepted-terms", "developer")
    ]
    async with site.sessions() as session:
        reason = await session.scalar(
            select(AuditEntry.reason).where(
                AuditEntry.entity_id == made["developer"]["id"],
                AuditEntry.action == "accepted-terms",
            )
        )
    assert reason == "version 1.0, accepted by cas@visser.example outside the portal"
    trail = await site.client.get(f"{API}/audit", headers=programme.auth)
    assert trail.json()["chainIntact"] is True


async def test_clause_2_rotating_a_key_audits_the_replaced_key_as_revoked(
    site: Site, programme: Programme
) -> None:
    made = await onboard(site, programme.auth, "cas@visser.example")
    path = f"{API}/subscriptions/{made['subscription']['id']}/keys"
    second = await site.client.post(path, json={"slot": "primary"}, headers=programme.auth)
    assert second.status_code == 201
    old = made["key"]["id"]
    assert await audited(site, old) == [
        (ADMIN_ACTOR, "issued", "key"),
        (ADMIN_ACTOR, "revoked", "key"),
    ]
    async with site.sessions() as session:
        snapshot = await load_snapshot(session)
    assert hash_key(made["key"]["secret"]) not in snapshot.keys
    assert hash_key(second.json()["secret"]) in snapshot.keys


async def test_clause_1_an_invited_developer_sets_a_password_and_signs_in(
    site: Site, programme: Programme
) -> None:
    await onboard(site, programme.auth, "cas@visser.example")
    invitation = await site.mail_to("cas@visser.example")
    assert [m.subject for m in invitation] == ["Your developer portal account"]
    link = LINK.search(invitation[0].body)
    assert link, invitation[0].body
    token = link.group(1).split("token=")[1]
    chosen = await site.post_form(
        "/portal/reset", {"token": token, "password": "a long passphrase of mine"}, link.group(1)
    )
    assert chosen.status_code == 303
    signed_in = await site.post_form(
        "/portal/login", {"email": "cas@visser.example", "password": "a long passphrase of mine"}
    )
    assert signed_in.status_code == 303
    async with site.sessions() as session:
        acceptance = await session.scalar(
            select(TermsAcceptance).join(Developer).where(Developer.email == "cas@visser.example")
        )
    assert acceptance is not None
    assert acceptance.ip == "offline"


async def test_clause_1_without_invite_no_mail_is_sent_and_no_password_exists(
    site: Site, programme: Programme
) -> None:
    created = await site.client.post(
        f"{API}/developers",
        json={"email": "dee@example.nl", "name": "Dee", "invite": False},
        headers=programme.auth,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{API}/developers/{created.json()['id']}"
    assert await site.mail_to("dee@example.nl") == []
    async with site.sessions() as session:
        developer = await session.get_one(Developer, created.json()["id"])
    assert developer.password_hash is None


BAD_DEVELOPERS = [
    ({"email": "not an address", "name": "X"}, "email"),
    ({"email": "a\x1b[31m@example.nl", "name": "X"}, "email"),
    ({"email": "x@example.nl", "name": "  "}, "name"),
    ({"email": "x@example.nl", "name": "two\nlines"}, "name"),
    ({"email": "x@example.nl", "name": "N" * 201}, "name"),
    ({"email": "x@example.nl", "name": 7}, "name"),
    ({"email": "x@example.nl", "name": "X", "invite": "yes"}, "invite"),
    ({"email": "x@example.nl", "name": "X", "password": "hunter22"}, "password"),
    ({"name": "X"}, "email"),
]


@pytest.mark.parametrize(("body", "field"), BAD_DEVELOPERS)
async def test_clause_1_a_bad_developer_is_a_problem_naming_the_field_and_creates_nothing(
    site: Site, programme: Programme, body: dict[str, Any], field: str
) -> None:
    before = await counts(site)
    answer = await site.client.post(f"{API}/developers", json=body, headers=programme.auth)
    problem = assert_problem(answer, 400, 40001, "1")
    assert [p["name"] for p in problem["invalid-params"]] == [field]
    assert await counts(site) == before


BAD_APPLICATIONS = [
    ({"name": ""}, "name"),
    ({"name": "A", "redirectUris": ["http://evil.example/cb"]}, "redirectUris"),
    ({"name": "A", "redirectUris": ["https://ok.example/cb#frag"]}, "redirectUris"),
    ({"name": "A", "redirectUris": ["https://ok.example/\x00"]}, "redirectUris.0"),
    ({"name": "A", "redirectUris": "https://ok.example/cb"}, "redirectUris"),
    ({"name": "A", "requestedScopes": ["payroll.everything"]}, "requestedScopes"),
    ({"name": "A", "useCaseCategory": "crypto"}, "useCaseCategory"),
    ({"name": "A", "dataAccess": "everything"}, "dataAccess"),
    ({"name": "A", "dataAccess": 1}, "dataAccess"),
    ({"name": "A", "expectedEndUsers": 0}, "expectedEndUsers"),
    ({"name": "A", "expectedEndUsers": 10**30}, "expectedEndUsers"),
    ({"name": "A", "environment": "production"}, "environment"),
]


@pytest.mark.parametrize(("body", "field"), BAD_APPLICATIONS)
async def test_clause_3_2_a_bad_application_is_a_problem_naming_the_field_and_creates_nothing(
    site: Site, programme: Programme, body: dict[str, Any], field: str
) -> None:
    before = await counts(site)
    path = f"{API}/developers/{programme.developer_id}/applications"
    answer = await site.client.post(path, json=body, headers=programme.auth)
    problem = assert_problem(answer, 400, 40001, "3.2")
    assert [p["name"] for p in problem["invalid-params"]] == [field]
    assert await counts(site) == before


async def test_clause_3_1_unknown_parties_are_404_and_duplicates_409_nothing_created(
    site: Site, programme: Programme
) -> None:
    auth = programme.auth
    before = await counts(site)
    plan = await sandbox_plan(site)
    for path, body in (
        (f"{API}/developers/nobody/applications", {"name": "A"}),
        (f"{API}/applications/nothing/subscriptions", {"plan": plan}),
        (f"{API}/subscriptions/nothing/keys", {"slot": "primary"}),
    ):
        assert_problem(await site.client.post(path, json=body, headers=auth), 404, 40401)
    duplicate = await site.client.post(
        f"{API}/developers",
        json={"email": programme.developer_email.upper(), "name": "Ann"},
        headers=auth,
    )
    assert "already exists" in assert_problem(duplicate, 409, 40901, "1")["detail"]
    same_name = await site.client.post(
        f"{API}/developers/{programme.developer_id}/applications",
        json={"name": "Salary sync"},
        headers=auth,
    )
    assert "already has an application" in assert_problem(same_name, 409, 40901)["detail"]
    subscribed = await site.client.post(
        f"{API}/applications/{programme.application_id}/subscriptions",
        json={"plan": plan},
        headers=auth,
    )
    assert "already subscribed" in assert_problem(subscribed, 409, 40901)["detail"]
    production = await site.client.post(
        f"{API}/applications/{programme.application_id}/subscriptions",
        json={"plan": "production/standard"},
        headers=auth,
    )
    assert "clause 3.2" in assert_problem(production, 409, 40901)["detail"]
    unknown_plan = await site.client.post(
        f"{API}/applications/{programme.application_id}/subscriptions",
        json={"plan": "sandbox/gold"},
        headers=auth,
    )
    assert assert_problem(unknown_plan, 400, 40001)["invalid-params"][0]["name"] == "plan"
    slot = await site.client.post(
        f"{API}/subscriptions/{programme.subscription_id}/keys",
        json={"slot": "third"},
        headers=auth,
    )
    assert assert_problem(slot, 400, 40001)["invalid-params"][0]["name"] == "slot"
    assert await counts(site) == before


async def test_clause_1_no_key_for_a_developer_who_has_not_accepted_the_terms(
    site: Site, programme: Programme
) -> None:
    auth = programme.auth
    developer = await site.client.post(
        f"{API}/developers",
        json={"email": "eve@example.nl", "name": "Eve", "invite": False},
        headers=auth,
    )
    app = await site.client.post(
        f"{API}/developers/{developer.json()['id']}/applications", json={"name": "E"}, headers=auth
    )
    subscription = await site.client.post(
        f"{API}/applications/{app.json()['id']}/subscriptions",
        json={"plan": await sandbox_plan(site)},
        headers=auth,
    )
    before = await counts(site)
    refused = await site.client.post(
        f"{API}/subscriptions/{subscription.json()['id']}/keys", headers=auth
    )
    assert "clause 1" in assert_problem(refused, 409, 40901, "2")["detail"]
    assert await counts(site) == before


def test_the_schema_offers_the_registry_use_case_categories() -> None:
    assert set(get_args(Category)) == set(USE_CASE_CATEGORIES)
