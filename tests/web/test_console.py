"""The provider console through HTTP: sign-in, reviews, suspensions, terms, audit, mail."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.db.models import Application, Developer, Environment, Status
from termgate.db.programme import AuditEntry, InboxMessage, ProductionRequest, ReviewState
from termgate.registry.terms import all_versions
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Programme, Site, seed_programme

PAGES = (
    "/console/",
    "/console/reviews",
    "/console/developers",
    "/console/applications",
    "/console/terms",
    "/console/audit",
    "/console/mail",
    "/console/usage",
    "/console/cases",
    "/console/scheduler",
)


class Labels(HTMLParser):
    """Collects the ids of visible form controls and the `for` of every label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labels: set[str] = set()
        self.buttons: list[str] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("input", "textarea", "select") and values.get("type") != "hidden":
            self.controls.append(values.get("id") or "")
        if tag == "label":
            self.labels.add(values.get("for") or "")
        if tag == "button":
            self._in_button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.buttons[-1] += data.strip()


def assert_accessible_forms(html: str) -> None:
    parser = Labels()
    parser.feed(html)
    unlabelled = [c for c in parser.controls if not c or c not in parser.labels]
    assert not unlabelled, unlabelled
    vague = [b for b in parser.buttons if b.lower() in ("", "ok", "submit", "go")]
    assert not vague, parser.buttons


async def sign_in(site: Site) -> None:
    response = await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 303, response.text


@pytest.fixture
async def console(site: Site) -> Programme:
    programme = await seed_programme(site)
    await sign_in(site)
    return programme


async def audit_count(site: Site) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def inbox_count(site: Site, developer_id: str) -> int:
    async with site.sessions() as session:
        query = select(func.count()).where(InboxMessage.developer_id == developer_id)
        return int(await session.scalar(query) or 0)


async def test_clause_3_1_console_requires_an_administrator(site: Site) -> None:
    await seed_programme(site)
    for path in PAGES:
        response = await site.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login?next=")
    wrong = await site.post_form("/console/login", {"email": ADMIN_EMAIL, "password": "guess"})
    assert wrong.status_code == 400
    assert "wrong e-mail address or password" in wrong.text
    assert_accessible_forms(wrong.text)
    assert (await site.client.get("/console/")).status_code == 303

    signed_in = await site.post_form(
        "/console/login",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/console/terms"},
    )
    assert signed_in.headers["location"] == "/console/terms"
    for path in PAGES:
        page = await site.client.get(path)
        assert page.status_code == 200, path
        assert 'aria-current="page"' in page.text
        assert_accessible_forms(page.text)

    out = await site.post_form("/console/logout", {}, "/console/")
    assert out.headers["location"] == "/console/login"
    assert (await site.client.get("/console/")).status_code == 303


async def test_clause_3_1_console_login_never_redirects_off_site(site: Site) -> None:
    await seed_programme(site)
    response = await site.post_form(
        "/console/login",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "//evil.example/"},
    )
    assert response.headers["location"] == "/console"


async def test_clause_3_2_provider_approves_production_request(
    site: Site, console: Programme
) -> None:
    overview = await site.client.get("/console/")
    assert "1</strong> production request waiting" in overview.text
    queue = await site.client.get("/console/reviews")
    for shown in (
        "Salary sync",
        "Ann Jansen",
        "Monthly salary journal entries",
        "Launching in March",
    ):
        assert shown in queue.text
    assert "<code>employee.employment.read</code>" in queue.text

    response = await site.post_form(
        f"/console/reviews/{console.review_id}/decide",
        {"decision": "approve", "reason": "Welcome aboard."},
        "/console/reviews",
    )
    assert response.status_code == 303
    after = await site.client.get(response.headers["location"])
    assert "Production access for Salary sync approved" in after.text
    assert "Nothing is waiting for review" in after.text
    async with site.sessions() as session:
        application = await session.get_one(Application, console.application_id)
        assert application.environment is Environment.PRODUCTION
        notice = await session.scalar(
            select(InboxMessage).where(InboxMessage.developer_id == console.developer_id)
        )
        assert notice is not None
        assert "approved" in notice.subject
    [mail] = await site.mail_to(console.developer_email)
    assert mail.subject == "Production access for Salary sync approved"
    assert "Welcome aboard." in mail.body
    mail_page = await site.client.get("/console/mail")
    assert "Production access for Salary sync approved" in mail_page.text


async def test_clause_3_2_provider_rejects_only_with_a_reason(
    site: Site, console: Programme
) -> None:
    before = await audit_count(site)
    refused = await site.post_form(
        f"/console/reviews/{console.review_id}/decide",
        {"decision": "reject", "reason": "  "},
        "/console/reviews",
    )
    assert refused.status_code == 400
    assert "a rejection needs a reason" in refused.text
    assert 'role="alert"' in refused.text
    async with site.sessions() as session:
        review = await session.get_one(ProductionRequest, console.review_id)
        assert review.state is ReviewState.PENDING
    assert await audit_count(site) == before
    assert await inbox_count(site, console.developer_id) == 0

    rejected = await site.post_form(
        f"/console/reviews/{console.review_id}/decide",
        {"decision": "reject", "reason": "Say how long you keep salary data."},
        "/console/reviews",
    )
    assert rejected.status_code == 303
    [mail] = await site.mail_to(console.developer_email)
    assert "rejected" in mail.subject
    assert "Say how long you keep salary data." in mail.body
    decided = await site.client.get("/console/reviews")
    assert "Say how long you keep salary data." in decided.text
    unknown = await site.post_form(
        "/console/reviews/nope/decide", {"decision": "approve"}, "/console/reviews"
    )
    assert unknown.status_code == 404


async def test_clause_3_1_suspension_is_audited_and_reversible(
    site: Site, console: Programme
) -> None:
    parties = [
        ("developer", console.developer_id, f"/console/developers/{console.developer_id}"),
        ("application", console.application_id, f"/console/applications/{console.application_id}"),
        (
            "subscription",
            console.subscription_id,
            f"/console/applications/{console.application_id}",
        ),
        ("key", console.key_id, f"/console/applications/{console.application_id}"),
    ]
    for kind, party_id, home in parties:
        for action, reason in (("suspend", f"probe {kind}"), ("reinstate", f"cured {kind}")):
            response = await site.post_form(
                f"/console/status/{kind}/{party_id}", {"action": action, "reason": reason}, home
            )
            assert response.status_code == 303, response.text
            assert response.headers["location"] == home
            page = await site.client.get(home)
            state = "suspended" if action == "suspend" else "active"
            assert f"{state}</span> — {reason}" in page.text

    async with site.sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.actor == ADMIN_EMAIL).order_by(AuditEntry.id)
            )
        )
        assert [(e.action, e.entity, e.reason) for e in entries[-8:]] == [
            (verb, kind, f"{word} {kind}")
            for kind, _, _ in parties
            for verb, word in (("suspended", "probe"), ("reinstated", "cured"))
        ]
        assert await verify_chain(session) is None
        developer = await session.get_one(Developer, console.developer_id)
        assert developer.status is Status.ACTIVE
    assert await inbox_count(site, console.developer_id) == 8
    audit = await site.client.get("/console/audit")
    assert "Chain intact." in audit.text
    assert "probe key" in audit.text
    detail = await site.client.get(f"/console/developers/{console.developer_id}")
    assert "cured developer" in detail.text


async def test_clause_3_1_bad_console_input_changes_nothing(site: Site, console: Programme) -> None:
    home = f"/console/developers/{console.developer_id}"
    before = await audit_count(site)
    empty = await site.post_form(
        f"/console/status/developer/{console.developer_id}",
        {"action": "suspend", "reason": ""},
        home,
    )
    assert empty.status_code == 400
    assert "give a reason" in empty.text
    assert 'aria-invalid="true"' in empty.text
    assert "<h1>Ann Jansen</h1>" in empty.text

    page = await site.client.get(home)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    no_csrf = await site.client.post(
        f"/console/status/developer/{console.developer_id}",
        data={"action": "suspend", "reason": "forged"},
    )
    assert no_csrf.status_code == 400
    assert "did not come from this site" in no_csrf.text
    unknown = await site.client.post(
        "/console/status/developer/nope",
        data={"action": "suspend", "reason": "x", "csrf_token": token.group(1)},
    )
    assert unknown.status_code == 404
    bad_kind = await site.client.post(
        f"/console/status/planet/{console.developer_id}",
        data={"action": "suspend", "reason": "x", "csrf_token": token.group(1)},
    )
    assert bad_kind.status_code == 404
    twice = await site.client.post(
        f"/console/status/key/{console.key_id}",
        data={"action": "reinstate", "reason": "x", "csrf_token": token.group(1)},
    )
    assert twice.status_code == 400
    assert "already active" in twice.text

    assert await audit_count(site) == before
    assert await inbox_count(site, console.developer_id) == 0
    async with site.sessions() as session:
        developer = await session.get_one(Developer, console.developer_id)
        assert developer.status is Status.ACTIVE


async def test_clause_2_console_revokes_a_key_for_good(site: Site, console: Programme) -> None:
    home = f"/console/applications/{console.application_id}"
    page = await site.client.get(home)
    assert f"<code>{console.key_prefix}…</code>" in page.text
    revoked = await site.post_form(
        f"/console/status/key/{console.key_id}", {"action": "revoke", "reason": "leaked"}, home
    )
    assert revoked.status_code == 303
    again = await site.post_form(
        f"/console/status/key/{console.key_id}", {"action": "reinstate", "reason": "oops"}, home
    )
    assert again.status_code == 400
    assert "cannot be undone" in again.text


async def test_clause_9_publishing_terms_notifies_every_developer(
    site: Site, console: Programme
) -> None:
    await seed_second_developer(site)
    page = await site.client.get("/console/terms")
    assert "Who accepted version 1.0" in page.text
    assert console.developer_email in page.text
    async with site.sessions() as session:
        [current] = await all_versions(session)
    assert current.body.splitlines()[0] in page.text

    form = {
        "version": "1.1",
        "title": "API Terms of Use",
        "change_summary": "Clause 4.4 limits are per developer.",
        "body": current.body + "\n\nNew paragraph.",
        "reaccept_days": "14",
    }
    bad_days = await site.post_form("/console/terms", {**form, "reaccept_days": "soon"})
    assert bad_days.status_code == 400
    assert "re-acceptance days must be a whole number" in bad_days.text
    assert "Clause 4.4 limits are per developer." in bad_days.text
    duplicate = await site.post_form("/console/terms", {**form, "version": "1.0"})
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.text
    async with site.sessions() as session:
        assert len(await all_versions(session)) == 1

    published = await site.post_form("/console/terms", form)
    assert published.status_code == 303
    after = await site.client.get("/console/terms")
    assert "every developer is asked to accept it" in after.text
    assert "1.1 — API Terms of Use" in after.text
    for address in (console.developer_email, "bo@example.nl"):
        mails = await site.mail_to(address)
        assert any("1.1" in m.subject and "per developer" in m.body for m in mails), address
    async with site.sessions() as session:
        newest = (await all_versions(session))[0]
        assert newest.version == "1.1"
        assert newest.published_by == ADMIN_EMAIL
        assert newest.reaccept_deadline is not None


async def seed_second_developer(site: Site) -> None:
    from termgate.registry.developers import create_developer

    async with site.sessions.begin() as session:
        await create_developer(session, email="bo@example.nl", name="Bo de Vries", actor="tests")


async def test_console_shows_developers_applications_and_verification_mail(
    site: Site, console: Programme
) -> None:
    developers = await site.client.get("/console/developers")
    assert console.developer_email in developers.text
    detail = await site.client.get(f"/console/developers/{console.developer_id}")
    for shown in ("Salary sync", console.key_prefix, "1.0 —", "127.0.0.1"):
        assert shown in detail.text
    applications = await site.client.get("/console/applications")
    assert "Salary sync" in applications.text
    assert (await site.client.get("/console/developers/nope")).status_code == 404
    assert (await site.client.get("/console/applications/nope")).status_code == 404

    signup = await site.post_form(
        "/portal/signup",
        {
            "name": "Cas Visser",
            "email": "cas@example.nl",
            "organisation": "",
            "password": "correct horse battery",
        },
    )
    assert signup.status_code == 200
    mail = await site.client.get("/console/mail")
    assert "cas@example.nl" in mail.text
    assert re.search(r'<a href="http://portal\.test/portal/\w+\?token=[\w-]+">', mail.text)


async def test_clause_4_1_overview_counts_active_keys(site: Site) -> None:
    await seed_programme(site)
    await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, "/console/login"
    )
    overview = await site.client.get("/console/")
    assert "<strong>1</strong> active keys" in overview.text
