"""Who is calling: the bearer admin token, checked in the request's one transaction.

`Admin` is the dependency every operation takes; it opens the transaction (committed when the
operation returns, rolled back when it raises) and refuses without a valid token (401). Roles:
a viewer reads (GET), an operator also writes; `Owner` operations (administrators and their
tokens) need an owner. A role that does not suffice is a 403 problem naming the role needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.exceptions import ValidationException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request

from termgate.core.errors import RegistryError
from termgate.db.programme import Administrator, AdminRole, AdminToken
from termgate.problems import ADMIN_INVALID_TOKEN as INVALID_TOKEN
from termgate.problems import ADMIN_MISSING_TOKEN as MISSING_TOKEN
from termgate.registry.admin_tokens import ADMIN_TOKEN_PREFIX, TokenRefusedError, token_holder
from termgate.registry.admins import role_refusal
from termgate.settings import Settings
from termgate.web.admin_api.problems import (
    ForbiddenError,
    InvalidRequestError,
    OperationFailedError,
    UnauthorisedError,
)
from termgate.web.context import unit_of_work, web
from termgate.web.request_log import is_database_fault

CHALLENGE = 'Bearer realm="termgate-admin"'
EXPECTED = (
    RegistryError,
    InvalidRequestError,
    HTTPException,
    UnauthorisedError,
    ForbiddenError,
    ValidationException,
)
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """What an operation gets: the transaction, the administrator, the token and the settings."""

    session: AsyncSession
    administrator: Administrator
    settings: Settings
    token: AdminToken

    @property
    def actor(self) -> str:
        """Who the audit trail names: the token's label and whose it is."""
        return f"token:{self.token.label} ({self.administrator.email})"

    def require(self, role: AdminRole) -> None:
        """Refuses (403) unless the administrator's role includes `role`."""
        require_role(self.administrator, role)


def require_role(administrator: Administrator, role: AdminRole) -> None:
    refusal = role_refusal(administrator, role)
    if refusal is not None:
        raise ForbiddenError(refusal)


BEARER = HTTPBearer(
    scheme_name="adminToken", description="an administrator token (tga_…)", auto_error=False
)


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> AsyncIterator[Caller]:
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        hint = (
            f"send Authorization: Bearer {ADMIN_TOKEN_PREFIX}… (`termgate admin token issue EMAIL`)"
        )
        raise UnauthorisedError(MISSING_TOKEN, hint, CHALLENGE)
    try:
        async with unit_of_work(request) as session:
            try:
                holder = await token_holder(session, token)
            except TokenRefusedError as refusal:
                challenge = f'{CHALLENGE}, error="invalid_token"'
                raise UnauthorisedError(INVALID_TOKEN, str(refusal), challenge) from None
            caller = Caller(session, holder.administrator, web(request).settings, holder.token)
            caller.require(AdminRole.VIEWER if request.method in READS else AdminRole.OPERATOR)
            yield caller
    except EXPECTED:
        raise
    except Exception as error:
        if is_database_fault(error):  # answered 503 with one rate-limited line (request_log)
            raise
        raise OperationFailedError(str(error)) from error


async def _owner(caller: Annotated[Caller, Depends(_caller, scope="function")]) -> Caller:
    caller.require(AdminRole.OWNER)
    return caller


Admin = Annotated[Caller, Depends(_caller, scope="function")]
Owner = Annotated[Caller, Depends(_owner)]
