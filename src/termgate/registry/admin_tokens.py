"""Admin API bearer tokens: stored as SHA-256, with a label, an optional expiry and the last use.

A token works while it is not revoked, not expired and its administrator is not disabled; all
three are checked on every request, so revoking or disabling takes effect at once on every node.
The last use is written at most once a minute per token (`TOUCH_EVERY`), by a conditional UPDATE,
so a busy token costs no write per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import generate_key, hash_key
from termgate.db.models import utcnow
from termgate.db.programme import Administrator, AdminToken
from termgate.registry.developers import require_text

ADMIN_TOKEN_PREFIX = "tga_"
TOUCH_EVERY = timedelta(minutes=1)
LONGEST = timedelta(days=3660)
DURATION = re.compile(r"^(\d{1,5})([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True)
class TokenHolder:
    """Who a presented token speaks for: the administrator and the token's own row."""

    administrator: Administrator
    token: AdminToken


class TokenRefusedError(RegistryError):
    """The token is unknown, revoked, expired, or its administrator is disabled."""


def expiry_from_text(text: str, now: datetime) -> datetime:
    """`30d`, `12h`, `90m`, or an ISO 8601 date or time (UTC unless it names an offset)."""
    value = text.strip()
    match = DURATION.match(value)
    if match:
        when = now + timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise RegistryError(
                f"expiry {value[:40]!r} is neither a duration (30d, 12h, 90m) nor an ISO date"
            ) from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return checked_expiry(when, now)


def checked_expiry(when: datetime, now: datetime) -> datetime:
    if when.tzinfo is None:
        raise RegistryError("the expiry must name its time zone (e.g. Z or +01:00)")
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-12:00 is past the last representable moment
        raise RegistryError("the expiry is out of range") from None
    if when <= now:
        raise RegistryError("the expiry must be in the future")
    if when - now > LONGEST:
        raise RegistryError("the expiry may be at most ten years ahead")
    return when


async def issue_admin_token(
    session: AsyncSession,
    admin: Administrator,
    label: str,
    *,
    expires_at: datetime | None = None,
    actor: str | None = None,
) -> str:
    """A new token's secret (see `issue_token`)."""
    _, secret = await issue_token(session, admin, label, expires_at=expires_at, actor=actor)
    return secret


async def issue_token(
    session: AsyncSession,
    admin: Administrator,
    label: str,
    *,
    expires_at: datetime | None = None,
    actor: str | None = None,
) -> tuple[AdminToken, str]:
    """A new token for `admin`; the secret is returned once and only its hash is stored."""
    if admin.disabled_at is not None:
        raise RegistryError(f"{admin.email} is disabled; enable the account first")
    name = require_text("label", label, limit=200)
    if expires_at is not None:
        expires_at = checked_expiry(expires_at, utcnow())
    secret = ADMIN_TOKEN_PREFIX + generate_key()
    token = AdminToken(
        administrator_id=admin.id, token_hash=hash_key(secret), label=name, expires_at=expires_at
    )
    session.add(token)
    await session.flush()
    until = f" until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    await record(
        session, actor or admin.email, "issued-admin-token", "admin-token", token.id, name + until
    )
    return token, secret


async def list_tokens(
    session: AsyncSession, admin: Administrator | None = None
) -> list[tuple[AdminToken, Administrator]]:
    query = select(AdminToken, Administrator).join(
        Administrator, AdminToken.administrator_id == Administrator.id
    )
    if admin is not None:
        query = query.where(AdminToken.administrator_id == admin.id)
    rows = await session.execute(query.order_by(AdminToken.created_at, AdminToken.id))
    return [(token, holder) for token, holder in rows]


async def revoke_token(session: AsyncSession, token_id: str, actor: str) -> AdminToken:
    token = await session.get(AdminToken, token_id.strip())
    if token is None:
        raise NotFoundError(f"no admin token {token_id[:40]!r}")
    if token.revoked_at is not None:
        raise RegistryError(f"the token {token.label!r} is already revoked")
    token.revoked_at = utcnow()
    await record(session, actor, "revoked-admin-token", "admin-token", token.id, token.label)
    return token


def _refusal(holder: TokenHolder | None, now: datetime) -> str | None:
    if holder is None:
        return "the token is unknown"
    token, admin = holder.token, holder.administrator
    if token.revoked_at is not None:
        return "the token was revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return f"the token expired at {token.expires_at:%Y-%m-%d %H:%M} UTC"
    if admin.disabled_at is not None:
        return f"the administrator {admin.email} is disabled"
    return None


async def token_holder(session: AsyncSession, secret: str) -> TokenHolder:
    """The administrator a working token speaks for, its last use recorded; or a refusal."""
    query = (
        select(AdminToken, Administrator)
        .join(Administrator, AdminToken.administrator_id == Administrator.id)
        .where(AdminToken.token_hash == hash_key(secret))
    )
    row = (await session.execute(query)).first()
    holder = TokenHolder(row[1], row[0]) if row else None
    now = utcnow()
    refusal = _refusal(holder, now)
    if refusal is not None or holder is None:
        raise TokenRefusedError(refusal or "the token is unknown")
    await _touch(session, holder.token, now)
    return holder


async def _touch(session: AsyncSession, token: AdminToken, now: datetime) -> None:
    last = token.last_used_at
    if last is not None and now - last < TOUCH_EVERY:
        return
    # Conditional, so two nodes seeing the same stale value write once between them.
    stale = or_(AdminToken.last_used_at.is_(None), AdminToken.last_used_at < now - TOUCH_EVERY)
    await session.execute(
        update(AdminToken)
        .where(AdminToken.id == token.id, stale)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used_at", now)  # already written: no second UPDATE


async def administrator_for_token(session: AsyncSession, secret: str) -> Administrator | None:
    try:
        return (await token_holder(session, secret)).administrator
    except TokenRefusedError:
        return None
