"""Administrators and their admin API tokens (owners only): create with a role, change the role,
disable and enable, issue, list and revoke tokens. Each change is audited under the caller's token.
The last active owner can be neither demoted nor disabled (409)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field

from termgate.core.errors import RegistryError
from termgate.core.passwords import weakness
from termgate.db.models import utcnow
from termgate.db.programme import Administrator, AdminRole, AdminToken
from termgate.registry.admin_tokens import checked_expiry, issue_token, list_tokens, revoke_token
from termgate.registry.admins import (
    create_administrator,
    disable_administrator,
    enable_administrator,
    find_administrator,
    list_administrators,
    set_role,
)
from termgate.web.admin_api import models
from termgate.web.admin_api.access import Owner
from termgate.web.admin_api.models import Id, Line, Out, Reason, When
from termgate.web.admin_api.problems import (
    REFUSED,
    Documented,
    InvalidRequestError,
    clause,
)

router = APIRouter(tags=["administrators"])
CLAUSE = clause("3.1")
Role = Annotated[AdminRole, Field(strict=False)]
OWNER_ONLY: Documented = {403: {"description": "the caller is not an owner"}}


class AdministratorOut(Out):
    id: str
    email: str
    name: str
    role: AdminRole
    created_at: datetime
    disabled_at: datetime | None


class AdministratorListing(Out):
    data: list[AdministratorOut]


class AdministratorDraft(models.Body):
    """A new administrator; without a password they use the admin API only (no console)."""

    email: Annotated[str, Field(min_length=3, max_length=320)]
    name: Line
    role: Role
    password: Annotated[str | None, Field(min_length=1, max_length=1000)] = None


class AdministratorChange(models.Body):
    """A new role, or disabled true/false with the reason (recorded in the audit trail)."""

    role: Role | None = None
    disabled: bool | None = None
    reason: Reason | None = None


class TokenOut(Out):
    id: str
    label: str
    administrator_id: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedToken(TokenOut):
    token: str = Field(description="the bearer token; shown this once, stored only as a hash")


class TokenListing(Out):
    data: list[TokenOut]


class TokenDraft(models.Body):
    label: Line
    expires_at: When | None = None


@router.get(
    "/administrators",
    operation_id="listAdministrators",
    summary="Every administrator with their role",
    openapi_extra=CLAUSE,
    responses=OWNER_ONLY,
)
async def list_administrators_op(admin: Owner) -> AdministratorListing:
    rows = await list_administrators(admin.session)
    return AdministratorListing(data=[AdministratorOut.model_validate(row) for row in rows])


@router.post(
    "/administrators",
    operation_id="createAdministrator",
    summary="Create an administrator with a role",
    status_code=201,
    openapi_extra=CLAUSE,
    responses={**OWNER_ONLY, **REFUSED},
)
async def create_administrator_op(
    admin: Owner, draft: AdministratorDraft, response: Response
) -> AdministratorOut:
    if draft.password is not None and (problem := weakness(draft.password, draft.email)):
        raise InvalidRequestError([{"name": "password", "reason": problem}])
    created = await create_administrator(
        admin.session,
        email=draft.email,
        name=draft.name,
        password=draft.password,
        role=draft.role,
        actor=admin.actor,
    )
    response.headers["location"] = f"/admin/api/administrators/{created.id}"
    return AdministratorOut.model_validate(created)


@router.patch(
    "/administrators/{administrator_id}",
    operation_id="changeAdministrator",
    summary="Change an administrator's role, or disable or enable them",
    openapi_extra=CLAUSE,
    responses={**OWNER_ONLY, **REFUSED},
)
async def change_administrator_op(
    admin: Owner, administrator_id: Id, change: AdministratorChange
) -> AdministratorOut:
    if change.role is None and change.disabled is None:
        raise InvalidRequestError([{"name": "body", "reason": "give role or disabled"}])
    if change.disabled is not None and change.reason is None:
        raise InvalidRequestError([{"name": "reason", "reason": "say why (audit trail)"}])
    target = await find_administrator(admin.session, administrator_id)
    if change.role is not None:
        await set_role(admin.session, target, change.role, admin.actor)
    if change.disabled is True:
        await disable_administrator(admin.session, target, change.reason or "", admin.actor)
    elif change.disabled is False:
        await enable_administrator(admin.session, target, change.reason or "", admin.actor)
    return AdministratorOut.model_validate(target)


def _token_out(token: AdminToken) -> TokenOut:
    return TokenOut.model_validate(token)


@router.get(
    "/admin-tokens",
    operation_id="listAdminTokens",
    summary="Every admin API token: label, created, expiry, last use, revoked",
    openapi_extra=CLAUSE,
    responses=OWNER_ONLY,
)
async def list_tokens_op(admin: Owner) -> TokenListing:
    return TokenListing(data=[_token_out(token) for token, _ in await list_tokens(admin.session)])


@router.post(
    "/administrators/{administrator_id}/tokens",
    operation_id="issueAdminToken",
    summary="Issue an admin API token for an administrator; the token is shown once",
    status_code=201,
    openapi_extra=CLAUSE,
    responses={**OWNER_ONLY, **REFUSED},
)
async def issue_token_op(admin: Owner, administrator_id: Id, draft: TokenDraft) -> IssuedToken:
    holder: Administrator = await find_administrator(admin.session, administrator_id)
    if draft.expires_at is not None:
        try:
            checked_expiry(draft.expires_at, utcnow())
        except RegistryError as error:
            raise InvalidRequestError([{"name": "expiresAt", "reason": str(error)}]) from None
    issued, secret = await issue_token(
        admin.session, holder, draft.label, expires_at=draft.expires_at, actor=admin.actor
    )
    return IssuedToken.model_validate({**_token_out(issued).model_dump(), "token": secret})


@router.post(
    "/admin-tokens/{token_id}/revoke",
    operation_id="revokeAdminToken",
    summary="Revoke an admin API token; refused from the next request on, on every node",
    openapi_extra=CLAUSE,
    responses={**OWNER_ONLY, **REFUSED},
)
async def revoke_token_op(admin: Owner, token_id: Id) -> TokenOut:
    return _token_out(await revoke_token(admin.session, token_id, admin.actor))
