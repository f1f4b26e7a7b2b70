"""Administrators of each role, with a password and an admin API token, for the role tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from termgate.db.programme import Administrator, AdminRole, AdminToken, AuditEntry
from termgate.registry.admin_tokens import issue_token
from termgate.registry.admins import create_administrator
from tests.web.conftest import Site

PASSWORD = "a long console passphrase"


@dataclass(frozen=True)
class Colleague:
    id: str
    email: str
    token: str
    token_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def colleague(site: Site, role: AdminRole, name: str | None = None) -> Colleague:
    email = f"{name or role.value}@provider.example"
    async with site.sessions.begin() as session:
        admin = await create_administrator(
            session, email=email, name=role.value.title(), password=PASSWORD, role=role
        )
        token, secret = await issue_token(session, admin, f"{role.value}-ci")
    return Colleague(admin.id, email, secret, token.id)


async def administrator(site: Site, admin_id: str) -> Administrator:
    async with site.sessions() as session:
        return await session.get_one(Administrator, admin_id)


async def token_row(site: Site, token_id: str) -> AdminToken:
    async with site.sessions() as session:
        return await session.get_one(AdminToken, token_id)


async def audit(site: Site) -> list[tuple[str, str, str]]:
    """(actor, action, entity id) of every audit entry, oldest first."""
    async with site.sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.actor, row.action, row.entity_id) for row in rows]
