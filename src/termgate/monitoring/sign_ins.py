"""Failed end-user sign-ins at the consent flow's sign-in page, kept for the probing detector
(clause 3.3 c: credential stuffing through an application's authorization requests)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.monitoring import SignInFailure


def application_of(next_path: str) -> str | None:
    """The client_id of the authorization request the sign-in was for, if it names one."""
    values = parse_qs(urlsplit(next_path).query).get("client_id", [])
    return values[0][:32] if values and values[0] else None


def record_sign_in_failure(
    session: AsyncSession, *, at: datetime, application_id: str | None, client_ip: str | None
) -> None:
    session.add(
        SignInFailure(
            at=at, application_id=application_id, client_ip=(client_ip or "")[:45] or None
        )
    )
