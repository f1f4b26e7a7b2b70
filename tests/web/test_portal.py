"""The developer portal through HTTP: sign-up to key, terms, production requests, bad input."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from termgate.core.secrets import hash_key
from termgate.db.models import Application, Developer, SubscriptionKey
from termgate.db.programme import ProductionRequest, TermsAcceptance
from termgate.problems import REFUSALS
from termgate.registry.terms import publish_terms
from tests.web.conftest import Site

LINK = re.compile(r"http://portal\.test(/portal/\w+\?token=[\w-]+)")
KEY = re.compile(r'data-slot="(\w+)">(tg_[\w-]+)<')
PASSWORD = "correct horse battery"


async def sign_up_and_verify(site: Site, email: str = "ann@example.nl") -> None:
    response = await site.post_form(
        "/portal/signup",
        {"name": "Ann Jansen", "email": email, "organisation": "Jansen ICT", "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    assert "Check your e-mail" in response.text
    [mail] = await site.mail_to(email)
    assert mail.subject == "Confirm your e-mail address"
    link = LINK.search(mail.body)
    assert link, mail.body
    confirmed = await site.client.get(link.group(1))
    assert "Your address is confirmed" in confirmed.text


async def sign_in(site: Site, email: str = "ann@example.nl") -> None:
    response = await site.post_form("/portal/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def accept_current_terms(site: Site, version: str = "1.0") -> None:
    response = await site.post_form(
        "/portal/terms/accept", {"version": version, "agree": "yes"}, "/portal/terms"
    )
    assert response.status_code == 303, response.text


async def register_app(site: Site, name: str = "Ann's payroll sync") -> str:
    response = await site.post_form(
        "/portal/apps/new",
        {
            "name": name,
            "description": "Syncs salaries into our accounting package.",
            "use_case_category": "accounting",
            "data_access": "periodic_reports",
            "use_case": "Monthly salary journal entries for the customer's own books.",
            "scopes": "employee.employment.read",
            "redirect_uris": "https://app.example.nl/callback",
            "expected_end_users": "40",
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def test_clause_1_sign_up_verify_accept_terms_register_and_get_keys(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    dashboard = await site.client.get("/portal")
    assert "Accept the current terms" in dashboard.text

    app_id = await register_app(site)
    page = await site.client.get(f"/portal/apps/{app_id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    plan = re.search(r'<option value="(\w+)">Sandbox', page.text)
    assert plan, page.text
    refused = await site.client.post(
        f"/portal/apps/{app_id}/subscribe",
        data={"plan": plan.group(1), "csrf_token": token.group(1)},
    )
    assert refused.status_code == 400
    assert "clause 1" in refused.text

    await accept_current_terms(site)
    issued = await site.post_form(
        f"/portal/apps/{app_id}/subscribe", {"plan": plan.group(1)}, f"/portal/apps/{app_id}"
    )
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    keys = dict(KEY.findall(issued.text))
    assert set(keys) == {"primary", "secondary"}
    async with site.sessions() as session:
        stored = await session.scalars(select(SubscriptionKey.key_hash))
        assert {hash_key(k) for k in keys.values()} <= set(stored)
        acceptance = await session.scalar(select(TermsAcceptance))
        assert acceptance is not None
        assert acceptance.user_agent  # the ledger records where it came from
    after = await site.client.get(f"/portal/apps/{app_id}")
    assert keys["primary"] not in after.text  # shown once only
    assert keys["primary"][:10] in after.text


async def test_clause_1_bad_sign_up_changes_nothing(site: Site) -> None:
    response = await site.post_form(
        "/portal/signup", {"name": "Bo", "email": "bo@example.nl", "password": "short"}
    )
    assert response.status_code == 400
    assert "at least 10 characters" in response.text
    assert 'value="bo@example.nl"' in response.text  # the form keeps what was typed
    bad_mail = await site.post_form(
        "/portal/signup", {"name": "Bo", "email": "not-an-address", "password": PASSWORD}
    )
    assert bad_mail.status_code == 400
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Developer)) == 0
    assert await site.mail_to("bo@example.nl") == []


async def test_form_without_csrf_token_is_refused(site: Site) -> None:
    response = await site.client.post(
        "/portal/signup",
        data={"name": "Eve", "email": "eve@example.nl", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.text
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Developer)) == 0


async def test_sign_in_needs_a_verified_address_and_the_right_password(site: Site) -> None:
    await site.post_form(
        "/portal/signup", {"name": "Ann", "email": "ann@example.nl", "password": PASSWORD}
    )
    unverified = await site.post_form(
        "/portal/login", {"email": "ann@example.nl", "password": PASSWORD}
    )
    assert unverified.status_code == 400
    assert "confirm your e-mail address first" in unverified.text
    wrong = await site.post_form("/portal/login", {"email": "ann@example.nl", "password": "x" * 12})
    assert "wrong e-mail address or password" in wrong.text


async def test_password_reset_link_works_once(site: Site) -> None:
    await sign_up_and_verify(site)
    await site.post_form("/portal/forgot", {"email": "ann@example.nl"})
    await site.post_form("/portal/forgot", {"email": "nobody@example.nl"})  # answers the same
    reset_mail = [m for m in await site.mail_to("ann@example.nl") if "Reset" in m.subject]
    link = LINK.search(reset_mail[0].body)
    assert link
    token = link.group(1).split("token=")[1]
    changed = await site.post_form(
        "/portal/reset", {"token": token, "password": "a new long passphrase"}, link.group(1)
    )
    assert changed.status_code == 303
    again = await site.post_form(
        "/portal/reset", {"token": token, "password": "another long one"}, link.group(1)
    )
    assert "already used" in again.text
    signed_in = await site.post_form(
        "/portal/login", {"email": "ann@example.nl", "password": "a new long passphrase"}
    )
    assert signed_in.status_code == 303


async def test_clause_9_amended_terms_show_what_changed_and_are_accepted_again(
    site: Site,
) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    await accept_current_terms(site)
    async with site.sessions.begin() as session:
        from termgate.registry.terms import current_terms

        current = await current_terms(session)
        assert current is not None
        await publish_terms(
            session,
            site.settings,
            version="1.1",
            title=current.title,
            body=current.body.replace("ten days", "fourteen days"),
            change_summary="The cure period is now fourteen days.",
            actor="admin@provider.example",
        )
    inbox = await site.client.get("/portal/inbox")
    assert "1.1: please review" in inbox.text
    terms_page = await site.client.get("/portal/terms")
    assert "You accepted version 1.0" in terms_page.text
    assert '<span class="add">+' in terms_page.text
    assert "fourteen days" in terms_page.text
    await accept_current_terms(site, "1.1")
    assert "You accepted version 1.1" in (await site.client.get("/portal/terms")).text


async def test_clause_3_2_production_request_waits_for_review(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    app_id = await register_app(site)
    asked = await site.post_form(
        f"/portal/apps/{app_id}/production", {"note": "Launch in May"}, f"/portal/apps/{app_id}"
    )
    assert asked.status_code == 303
    page = await site.client.get(f"/portal/apps/{app_id}")
    assert "Waiting for review" in page.text
    twice = await site.post_form(
        f"/portal/apps/{app_id}/production", {"note": ""}, f"/portal/apps/{app_id}"
    )
    assert "already waiting for review" in twice.text
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProductionRequest)) == 1


async def test_clause_2_another_developers_application_is_not_found(site: Site) -> None:
    await sign_up_and_verify(site, "ann@example.nl")
    await sign_in(site, "ann@example.nl")
    app_id = await register_app(site)
    await site.client.post("/portal/logout", data={"csrf_token": await site.csrf("/portal")})
    await sign_up_and_verify(site, "bob@example.nl")
    await sign_in(site, "bob@example.nl")
    assert (await site.client.get(f"/portal/apps/{app_id}")).status_code == 404
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 1


async def test_bad_application_input_changes_nothing(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    response = await site.post_form(
        "/portal/apps/new",
        {
            "name": "Leaky",
            "description": "x",
            "use_case_category": "hr",
            "data_access": "on_demand",
            "use_case": "y",
            "scopes": "employee.info.read",
            "redirect_uris": "http://evil.example/cb",
        },
    )
    assert response.status_code == 400
    assert "not a redirect URI" in response.text
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0


async def test_clause_2_regenerating_the_primary_key_keeps_the_secondary(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    await accept_current_terms(site)
    app_id = await register_app(site)
    page = await site.client.get(f"/portal/apps/{app_id}")
    plan = re.search(r'<option value="(\w+)">Sandbox', page.text)
    assert plan
    first = dict(
        KEY.findall(
            (
                await site.post_form(
                    f"/portal/apps/{app_id}/subscribe",
                    {"plan": plan.group(1)},
                    f"/portal/apps/{app_id}",
                )
            ).text
        )
    )
    detail = await site.client.get(f"/portal/apps/{app_id}")
    action = re.search(r'action="(/portal/apps/\w+/subscriptions/\w+/keys/primary)"', detail.text)
    assert action
    again = await site.post_form(action.group(1), {}, f"/portal/apps/{app_id}")
    second = dict(KEY.findall(again.text))
    assert set(second) == {"primary"}
    assert second["primary"] != first["primary"]
    async with site.sessions() as session:
        statuses = dict(
            (await session.execute(select(SubscriptionKey.key_hash, SubscriptionKey.status))).all()
        )
    assert statuses[hash_key(first["primary"])].value == "revoked"
    assert statuses[hash_key(first["secondary"])].value == "active"
    assert statuses[hash_key(second["primary"])].value == "active"


async def test_clause_4_2_inbox_message_is_marked_read_in_place(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    app_id = await register_app(site)
    await site.post_form(f"/portal/apps/{app_id}/production", {}, f"/portal/apps/{app_id}")
    async with site.sessions.begin() as session:
        from termgate.registry.reviews import decide, review_queue

        [(request, _)] = await review_queue(session)
        await decide(session, request.id, approve=False, reason="Use case unclear", actor="pat")
    inbox = await site.client.get("/portal/inbox")
    assert "Use case unclear" in inbox.text
    assert '<span class="badge" aria-label="1 unread">1</span>' in inbox.text
    action = re.search(r'hx-post="(/portal/inbox/\w+/read)"', inbox.text)
    assert action
    token = await site.csrf("/portal/inbox")
    swapped = await site.client.post(
        action.group(1), data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith("<article")
    assert "Mark as read" not in swapped.text
    assert 'aria-label="1 unread"' not in (await site.client.get("/portal/inbox")).text


async def test_clause_2_client_secret_is_shown_once_and_replaces_the_previous(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    app_id = await register_app(site)
    secrets = []
    for _ in range(2):
        page = await site.post_form(
            f"/portal/apps/{app_id}/client-secret", {}, f"/portal/apps/{app_id}"
        )
        assert page.headers["cache-control"] == "no-store"
        found = re.search(r'data-slot="client">(tgs_[\w-]+)<', page.text)
        assert found
        secrets.append(found.group(1))
    async with site.sessions() as session:
        application = await session.get_one(Application, app_id)
    from termgate.identity.clients import client_secret_matches

    assert not client_secret_matches(application, secrets[0])
    assert client_secret_matches(application, secrets[1])
    detail = await site.client.get(f"/portal/apps/{app_id}")
    assert "confidential (has a secret)" in detail.text
    assert secrets[1] not in detail.text


async def test_clause_3_1_the_error_page_has_an_anchor_and_the_type_of_every_code(
    site: Site,
) -> None:
    page = await site.client.get("/portal/errors")
    assert page.status_code == 200
    rows = dict(re.findall(r'<tr id="(\d{5})">.*?<code>(\w+)</code>', page.text, re.S))
    assert rows == {str(refusal.code): refusal.type for refusal in REFUSALS}
