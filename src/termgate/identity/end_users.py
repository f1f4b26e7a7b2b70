"""End users of the payroll product: their logins, the debtors they see, their environment.

The reference upstream generates its logins from its seed; `import_end_users` makes them
termgate end users (a real provider would synchronise from its identity store instead). Sandbox
end users see only the sandbox's debtors (`sandbox`: which debtors those are); a sandbox
application can only be consented by them.

A login's `id` is the upstream's id of the account (`termgate.core.user_ids`): a string (the
published contract's GUID) or, from an identity store that numbers its logins, an integer
stored as its decimal string. A login whose id could not be sent as `X-Termgate-User` (empty,
over 128 characters, a space, comma, CR/LF or other control character) is not imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.errors import RegistryError
from termgate.core.passwords import hash_off_loop, verify_off_loop
from termgate.core.tenant_ids import TenantIdError, canonical_debtor_ids
from termgate.core.user_ids import UserIdError, canonical_user_id
from termgate.db.models import Environment, Status
from termgate.db.oauth import EndUser

# In the older reference data the first two customers (debtors) play the sandbox's customers.
SANDBOX_DEBTORS = frozenset({"1001", "1002"})


class PayrollLogin(Protocol):
    """A login of the payroll product, as its identity store describes it."""

    @property
    def id(self) -> str | int: ...
    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def debtor_ids(self) -> Sequence[int | str]: ...


def environment_of(
    debtors: Iterable[str], sandbox: frozenset[str] = SANDBOX_DEBTORS
) -> Environment:
    return Environment.SANDBOX if set(debtors) <= sandbox else Environment.PRODUCTION


def visible_debtors(login: PayrollLogin) -> tuple[str, ...]:
    """The login's debtors in canonical form; RegistryError if the identity store names one
    that is not a debtor id (it is not imported rather than stored in a form never compared)."""
    try:
        return canonical_debtor_ids(login.debtor_ids)
    except TenantIdError as error:
        raise RegistryError(f"login {login.username}: {error}") from None


def upstream_user_id(login: PayrollLogin) -> str:
    """The login's upstream id in canonical form; RegistryError, naming the login, if it is not
    one (it is not imported rather than sent in a header it could break)."""
    try:
        return canonical_user_id(login.id)
    except UserIdError as error:
        raise RegistryError(f"login {login.username}: {error}") from None


async def import_end_users(
    session: AsyncSession,
    logins: Iterable[PayrollLogin],
    password: str,
    sandbox: Iterable[object] = SANDBOX_DEBTORS,
) -> list[EndUser]:
    """Creates the logins not yet known (matched on the upstream's id); all get `password`.
    A login that sees only debtors of `sandbox` is a sandbox end user."""
    sandbox_debtors = frozenset(canonical_debtor_ids(sandbox))
    known = set(await session.scalars(select(EndUser.upstream_id)))
    password_hash = await hash_off_loop(password)
    created = []
    for login in logins:
        upstream_id = upstream_user_id(login)
        if upstream_id in known:
            continue
        debtors = visible_debtors(login)
        known.add(upstream_id)
        user = EndUser(
            upstream_id=upstream_id,
            username=login.username,
            email=login.email,
            display_name=login.display_name,
            password_hash=password_hash,
            environment=environment_of(debtors, sandbox_debtors),
            debtor_ids=",".join(debtors),
        )
        session.add(user)
        created.append(user)
    await session.flush()
    return created


async def authenticate_end_user(session: AsyncSession, username: str, password: str) -> EndUser:
    user = await session.scalar(select(EndUser).where(EndUser.username == username.strip()))
    verified = await verify_off_loop(user.password_hash if user else None, password)
    if user is None or not verified:
        raise RegistryError("wrong username or password")
    if user.status is not Status.ACTIVE:
        raise RegistryError("this login is not active; ask your payroll administrator")
    return user
