"""Who is calling: the bearer admin token, checked in the request's one transaction.

`Admin` is the dependency every operation takes; it opens the transaction (committed when the
operation returns, rolled back when it raises) and refuses without a valid token (401).
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
from termgate.db.programme import Administrator
from termgate.problems import ADMIN_INVALID_TOKEN as INVALID_TOKEN
from termgate.problems import ADMIN_MISSING_TOKEN as MISSING_TOKEN
from termgate.registry.admins import ADMIN_TOKEN_PREFIX, administrator_for_token
from termgate.settings import Settings
from termgate.web.admin_api.problems import (
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
    ValidationException,
)


@dataclass(frozen=True)
class Caller:
    """What an operation gets: the transaction, the administrator and the settings."""

    session: AsyncSession
    administrator: Administrator
    settings: Settings

    @property
    def actor(self) -> str:
        return self.administrator.email


BEARER = HTTPBearer(
    scheme_name="adminToken", description="an administrator token (tga_…)", auto_error=False
)


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> AsyncIterator[Caller]:
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        hint = f"send Authorization: Bearer {ADMIN_TOKEN_PREFIX}… (`termgate admin token EMAIL`)"
        raise UnauthorisedError(MISSING_TOKEN, hint, CHALLENGE)
    try:
        async with unit_of_work(request) as session:
            administrator = await administrator_for_token(session, token)
            if administrator is None:
                challenge = f'{CHALLENGE}, error="invalid_token"'
                raise UnauthorisedError(INVALID_TOKEN, "the token is unknown or revoked", challenge)
            yield Caller(session, administrator, web(request).settings)
    except EXPECTED:
        raise
    except Exception as error:
        if is_database_fault(error):  # answered 503 with one rate-limited line (request_log)
            raise
        raise OperationFailedError(str(error)) from error


Admin = Annotated[Caller, Depends(_caller, scope="function")]
