"""The provider's administrators: console logins (argon2), roles, disabled accounts.

Roles are viewer < operator < owner. The last active owner can be neither demoted nor disabled,
so someone can always manage the administrators. Disabling an account ends its console sessions
(`end_every_session`) and its tokens stop working at once (`registry.admin_tokens` checks it on
every request). Every change is in the audit trail under the actor who made it.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.passwords import hash_off_loop, verify_off_loop
from termgate.core.sessions import end_every_session
from termgate.db.models import utcnow
from termgate.db.programme import Administrator, AdminRole
from termgate.registry.admin_tokens import ADMIN_TOKEN_PREFIX as ADMIN_TOKEN_PREFIX
from termgate.registry.admin_tokens import administrator_for_token as administrator_for_token
from termgate.registry.admin_tokens import issue_admin_token as issue_admin_token
from termgate.registry.developers import normalise_email, require_text

ENTITY = "administrator"


def role_refusal(admin: Administrator, needed: AdminRole) -> str | None:
    """Why `admin` may not do what needs `needed`, or None when their role includes it."""
    if admin.role.rank >= needed.rank:
        return None
    return f"this needs the {needed} role; {admin.email} is {admin.role}"


def parse_role(text: str) -> AdminRole:
    try:
        return AdminRole(text.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in AdminRole)
        raise RegistryError(f"{text[:40]!r} is not a role; use one of {roles}") from None


async def create_administrator(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password: str | None = None,
    role: AdminRole = AdminRole.OWNER,
    actor: str = "system",
) -> Administrator:
    address = normalise_email(email)
    if await session.scalar(select(Administrator.id).where(Administrator.email == address)):
        raise RegistryError(f"an administrator {address} already exists")
    admin = Administrator(
        email=address,
        name=require_text("name", name),
        password_hash=await hash_off_loop(password) if password else None,
        role=role,
    )
    session.add(admin)
    await session.flush()
    await record(session, actor, "created-administrator", ENTITY, admin.id, f"{address} as {role}")
    return admin


async def find_administrator(session: AsyncSession, reference: str) -> Administrator:
    """By e-mail address or id."""
    admin = await session.get(Administrator, reference.strip()) if "@" not in reference else None
    if admin is None and "@" in reference:
        admin = await session.scalar(
            select(Administrator).where(Administrator.email == normalise_email(reference))
        )
    if admin is None:
        raise NotFoundError(f"no administrator {reference[:80]!r}")
    return admin


async def list_administrators(session: AsyncSession) -> list[Administrator]:
    return list(await session.scalars(select(Administrator).order_by(Administrator.email)))


async def _other_active_owners(session: AsyncSession, admin: Administrator) -> int:
    query = select(func.count()).where(
        Administrator.role == AdminRole.OWNER,
        Administrator.disabled_at.is_(None),
        Administrator.id != admin.id,
    )
    return int(await session.scalar(query) or 0)


async def _keep_an_owner(session: AsyncSession, admin: Administrator, change: str) -> None:
    """Refuses to `change` the last active owner: nobody could manage administrators after."""
    if admin.role is not AdminRole.OWNER or admin.disabled_at is not None:
        return
    # Serialise concurrent changes of owners (PostgreSQL); SQLite serialises writers already.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(Administrator.id).where(Administrator.role == AdminRole.OWNER).with_for_update()
        )
    if not await _other_active_owners(session, admin):
        raise RegistryError(
            f"{admin.email} is the last active owner; make another administrator owner before "
            f"you {change} this one"
        )


async def set_role(
    session: AsyncSession, admin: Administrator, role: AdminRole, actor: str
) -> Administrator:
    if admin.role is role:
        raise RegistryError(f"{admin.email} is already {role}")
    if role is not AdminRole.OWNER:
        await _keep_an_owner(session, admin, "demote")
    before = admin.role
    admin.role = role
    change = f"{before} → {role}"
    await record(session, actor, "changed-administrator-role", ENTITY, admin.id, change)
    return admin


async def disable_administrator(
    session: AsyncSession, admin: Administrator, reason: str, actor: str
) -> Administrator:
    why = require_text("reason", reason, limit=500)
    if admin.disabled_at is not None:
        raise RegistryError(f"{admin.email} is already disabled")
    await _keep_an_owner(session, admin, "disable")
    admin.disabled_at = utcnow()
    end_every_session(admin)
    await record(session, actor, "disabled-administrator", ENTITY, admin.id, why)
    return admin


async def enable_administrator(
    session: AsyncSession, admin: Administrator, reason: str, actor: str
) -> Administrator:
    why = require_text("reason", reason, limit=500)
    if admin.disabled_at is None:
        raise RegistryError(f"{admin.email} is not disabled")
    admin.disabled_at = None
    await record(session, actor, "enabled-administrator", ENTITY, admin.id, why)
    return admin


async def authenticate_administrator(
    session: AsyncSession, email: str, password: str
) -> Administrator:
    try:
        admin = await find_administrator(session, email) if "@" in email else None
    except RegistryError:
        admin = None
    verified = await verify_off_loop(admin.password_hash if admin else None, password)
    if admin is None or not verified:
        raise RegistryError("wrong e-mail address or password")
    if admin.disabled_at is not None:
        raise RegistryError("this administrator account is disabled; ask an owner to enable it")
    return admin
