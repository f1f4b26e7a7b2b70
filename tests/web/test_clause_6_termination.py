"""Clauses 6.2-6.4 through HTTP on both databases: the provider terminates (admin API or
console) or the developer closes the account (portal); every key, client secret, token and
consent of the party is revoked in one transaction and its end users are told; the developer
attests deletion through the mailed link, a signed record in the audit chain; the provider sees
who has not attested; bad input names its field and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from termgate.db.due_process_records import DeletionAttestation, EndUserNotice, Termination
from termgate.db.models import Application, Developer, Status, SubscriptionKey
from termgate.db.oauth import Consent
from termgate.due_process.attestations import attestation_deadlines, verify_attestation
from termgate.settings import load_settings
from tests.web.conftest import Site
from tests.web.due_process_support import (
    PASSWORD,
    audit_count,
    chain_intact,
    connect_end_user,
    developer_with_password,
    family_revoked,
    sign_in_developer,
)

LINK = re.compile(r"http://portal\.test(/portal/attest/\w+\?token=[\w-]+)")


async def _attestation_link(site: Site, email: str) -> str:
    mails = [m for m in await site.mail_to(email) if "licence has ended" in m.subject]
    assert len(mails) == 1, [m.subject for m in await site.mail_to(email)]
    link = LINK.search(mails[0].body)
    assert link, mails[0].body
    return link.group(1)


async def test_clause_6_2_provider_terminates_everything_and_the_developer_attests_deletion(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    first = await connect_end_user(site, programme.application_id)
    second = await connect_end_user(site, programme.application_id)
    response = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/terminate",
        json={"ground": "uncured-breach", "reason": "harvesting not cured in 10 days"},
        headers=programme.auth,
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["keysRevoked"], shown["tokenFamiliesRevoked"], shown["consentsWithdrawn"]) == (
        1,
        2,
        2,
    )
    assert shown["endUsersTold"] == 2
    async with site.sessions() as session:
        assert (await session.get_one(Developer, programme.developer_id)).status is Status.REVOKED
        application = await session.get_one(Application, programme.application_id)
        assert application.status is Status.REVOKED
        assert application.client_secret_hash is None
        key = await session.get_one(SubscriptionKey, programme.key_id)
        assert key.status is Status.REVOKED
        live = select(func.count()).where(Consent.withdrawn_at.is_(None))
        assert await session.scalar(live.select_from(Consent)) == 0
    assert await family_revoked(site, first.family_id)
    assert await family_revoked(site, second.family_id)
    [told] = await site.mail_to(first.email)
    assert "can no longer read your data" in told.subject
    again = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/terminate",
        json={"ground": "other", "reason": "twice"},
        headers=programme.auth,
    )
    assert again.status_code == 409, again.text

    outstanding = await site.client.get(
        "/admin/api/attestations/outstanding", headers=programme.auth
    )
    assert [row["developerEmail"] for row in outstanding.json()] == [programme.developer_email]

    link = await _attestation_link(site, programme.developer_email)
    form = await site.client.get(link)
    assert form.status_code == 200
    assert "What was deleted" in form.text
    response = await site.post_form(
        link,
        {
            "statement": "All payroll data of our customers, including backups.",
            "deleted_on": site.settings.now().strftime("%Y-%m-%d"),
            "deleted_by": "Ann Jansen, CTO",
        },
    )
    assert response.status_code == 303, response.text
    async with site.sessions() as session:
        attestation = await session.scalar(select(DeletionAttestation))
        assert attestation is not None
        assert await verify_attestation(session, attestation) == []
    outstanding = await site.client.get(
        "/admin/api/attestations/outstanding", headers=programme.auth
    )
    assert outstanding.json() == []
    listed = await site.client.get("/admin/api/terminations", headers=programme.auth)
    assert [(row["id"], row["attested"]) for row in listed.json()] == [(shown["id"], True)]
    case_file = await site.client.get(
        f"/admin/api/case-files/termination/{shown['id']}", headers=programme.auth
    )
    assert case_file.status_code == 200, case_file.text
    document = case_file.json()
    assert document["audit_chain"]["intact"] is True
    assert document["evidence"][0]["verified"] is True
    assert {"terminated", "attested-deletion"} <= {e["action"] for e in document["timeline"]}
    pdf = await site.client.get(
        f"/admin/api/case-files/termination/{shown['id']}?format=pdf", headers=programme.auth
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    html = await site.client.get(
        f"/admin/api/case-files/termination/{shown['id']}?format=html", headers=programme.auth
    )
    assert "Audit chain proof" in html.text
    assert "attested-deletion" in html.text
    assert await chain_intact(site)


async def test_clause_6_2_developer_closes_the_account_in_the_portal(site: Site) -> None:
    programme = await developer_with_password(site)
    user = await connect_end_user(site, programme.application_id)
    await sign_in_developer(site, programme.developer_email)
    wrong = await site.post_form(
        "/portal/close", {"password": "not it", "confirm": "close", "reason": ""}
    )
    assert wrong.status_code == 400
    assert "password" in wrong.text
    response = await site.post_form(
        "/portal/close", {"password": PASSWORD, "confirm": "close", "reason": "moving on"}
    )
    assert response.status_code == 303, response.text
    assert await family_revoked(site, user.family_id)
    after = await site.client.get("/portal/apps")
    assert after.status_code == 303  # signed out: sent to the login
    async with site.sessions() as session:
        termination = await session.scalar(select(Termination))
        assert termination is not None
        assert termination.ground.value == "closed-by-dev"
        notices = await session.scalar(select(func.count()).select_from(EndUserNotice))
        assert notices == 1


async def test_clause_6_4_overdue_attestations_are_marked_once(site: Site) -> None:
    programme = await developer_with_password(site)
    response = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/terminate",
        json={"ground": "insolvency", "reason": "bankruptcy declared"},
        headers=programme.auth,
    )
    assert response.status_code == 200, response.text
    later = load_settings(clock_offset_seconds=31 * 86400).now()
    async with site.sessions.begin() as session:
        assert await attestation_deadlines(session, site.settings.now()) == 0
        assert await attestation_deadlines(session, later) == 1
        assert await attestation_deadlines(session, later) == 0
    assert await chain_intact(site)


async def test_clause_6_bad_termination_and_attestation_input_changes_nothing(
    site: Site,
) -> None:
    programme = await developer_with_password(site)
    before = await audit_count(site)
    for body, field in (
        ({"ground": "boredom", "reason": "x"}, "ground"),
        ({"ground": "other", "reason": ""}, "reason"),
        ({"ground": "other"}, "reason"),
        ({"ground": "other", "reason": "x", "extra": 1}, "extra"),
    ):
        response = await site.client.post(
            f"/admin/api/developers/{programme.developer_id}/terminate",
            json=body,
            headers=programme.auth,
        )
        assert response.status_code == 400, (body, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, response.text
    unknown = await site.client.post(
        "/admin/api/developers/nobody/terminate",
        json={"ground": "other", "reason": "x"},
        headers=programme.auth,
    )
    assert unknown.status_code == 404
    assert await audit_count(site) == before

    response = await site.client.post(
        f"/admin/api/developers/{programme.developer_id}/terminate",
        json={"ground": "other", "reason": "contract ended"},
        headers=programme.auth,
    )
    assert response.status_code == 200
    link = await _attestation_link(site, programme.developer_email)
    good = {"statement": "Everything.", "deleted_on": "2026-01-02", "deleted_by": "Ann"}
    for name, value in (
        ("statement", ""),
        ("deleted_on", "last week"),
        ("deleted_on", "2999-01-01"),
        ("deleted_by", ""),
    ):
        refused = await site.post_form(link, {**good, name: value})
        assert refused.status_code == 400, (name, refused.text)
        assert name.replace("_", " ") in refused.text
    forged = await site.client.get(link.split("?")[0] + "?token=guess")
    assert forged.status_code == 404
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeletionAttestation)) == 0
