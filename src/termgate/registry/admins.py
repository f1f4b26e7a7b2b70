"""The provider's administrators: console logins (argon2) and admin API bearer tokens (SHA-256)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import RegistryError
from termgate.core.passwords import hash_off_loop, verify_off_loop
from termgate.core.secrets import generate_key, hash_key
from termgate.db.programme import Administrator, AdminToken
from termgate.registry.developers import normalise_email, require_text

ADMIN_TOKEN_PREFIX = "tga_"


async def create_administrator(
    session: AsyncSession, *, email: str, name: str, password: str | None = None
) -> Administrator:
    address = normalise_email(email)
    if await session.scalar(select(Administrator.id).where(Administrator.email == address)):
        raise RegistryError(f"an administrator {address} already exists")
    admin = Administrator(
        email=address,
        name=require_text("name", name),
        password_hash=await hash_off_loop(password) if password else None,
    )
    session.add(admin)
    await session.flush()
    await record(session, "system", "created-administrator", "administrator", admin.id)
    return admin


async def find_administrator(session: AsyncSession, email: str) -> Administrator:
    admin = await session.scalar(
        select(Administrator).where(Administrator.email == normalise_email(email))
    )
    if admin is None:
        raise RegistryError(f"no administrator {email!r}")
    return admin


async def issue_admin_token(session: AsyncSession, admin: Administrator, label: str) -> str:
    secret = ADMIN_TOKEN_PREFIX + generate_key()
    session.add(AdminToken(administrator_id=admin.id, token_hash=hash_key(secret), label=label))
    await record(session, admin.email, "issued-admin-token", "administrator", admin.id, label)
    return secret


async def administrator_for_token(session: AsyncSession, secret: str) -> Administrator | None:
    query = (
        select(Administrator)
        .join(AdminToken, AdminToken.administrator_id == Administrator.id)
        .where(AdminToken.token_hash == hash_key(secret), AdminToken.revoked_at.is_(None))
    )
    return await session.scalar(query)


async def authenticate_administrator(
    session: AsyncSession, email: str, password: str
) -> Administrator:
    try:
        admin = await find_administrator(session, email)
    except RegistryError:
        admin = None
    verified = await verify_off_loop(admin.password_hash if admin else None, password)
    if admin is None or not verified:
        raise RegistryError("wrong e-mail address or password")
    return admin
