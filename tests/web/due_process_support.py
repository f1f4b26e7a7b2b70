"""A developer who can sign in, end users connected to their application, and the audit chain,
for the due-process tests (incidents, termination, attestation, verification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.core.passwords import hash_password
from termgate.db.models import Application, Developer, new_id
from termgate.db.oauth import EndUser, TokenFamily
from termgate.db.programme import AuditEntry
from termgate.identity.consents import grant_consent
from termgate.identity.tokens import open_family
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Programme, Site, seed_programme

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Connected:
    end_user_id: str
    username: str
    email: str
    family_id: str


async def developer_with_password(site: Site) -> Programme:
    """The seeded programme; its developer has a confirmed address and a password."""
    programme = await seed_programme(site)
    async with site.sessions.begin() as session:
        developer = await session.get_one(Developer, programme.developer_id)
        developer.password_hash = hash_password(PASSWORD)
        developer.email_verified_at = datetime.now(UTC)
    return programme


async def connect_end_user(site: Site, application_id: str) -> Connected:
    """An end user who consented to the application (the consent page's own function) and
    holds a token family under that consent."""
    suffix = new_id()[:8]
    async with site.sessions.begin() as session:
        user = EndUser(
            upstream_id=str(20_000_000 + int(suffix, 16) % 1_000_000),
            username=f"user-{suffix}",
            email=f"user-{suffix}@example.nl",
            display_name=f"User {suffix}",
            password_hash="-",
            debtor_ids="1001",
        )
        session.add(user)
        await session.flush()
        consent = await grant_consent(
            session,
            end_user=user,
            application=await session.get_one(Application, application_id),
            scopes="employee.employment.read",
            debtors=("1001",),
            ip="127.0.0.1",
            user_agent="tests",
            now=datetime.now(UTC),
        )
        family = await open_family(session, consent)
    return Connected(user.id, user.username, user.email, family.id)


async def family_revoked(site: Site, family_id: str) -> bool:
    async with site.sessions() as session:
        family = await session.get_one(TokenFamily, family_id)
        return family.revoked_at is not None


async def audit_count(site: Site) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def chain_intact(site: Site) -> bool:
    async with site.sessions() as session:
        return await verify_chain(session) is None


async def sign_in_developer(site: Site, email: str) -> None:
    response = await site.post_form("/portal/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def sign_in_console(site: Site) -> None:
    response = await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 303, response.text
