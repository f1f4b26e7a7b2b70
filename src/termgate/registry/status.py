"""Suspension and reinstatement of a developer, application, subscription or key (clause 3.1).

Reversible, with a reason, written to the audit trail, told to the developer, and in force on
every gateway node within the snapshot interval (the change feed moves in the same transaction).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.sessions import end_every_session
from termgate.db.models import Application, Developer, Status, Subscription, SubscriptionKey
from termgate.notify.inbox import notify_developer

Party = Developer | Application | Subscription | SubscriptionKey
PartyKind = Literal["developer", "application", "subscription", "key"]
MODELS: dict[str, type[Party]] = {
    "developer": Developer,
    "application": Application,
    "subscription": Subscription,
    "key": SubscriptionKey,
}


async def find_party(session: AsyncSession, kind: str, party_id: str) -> Party:
    model = MODELS.get(kind)
    if model is None:
        raise RegistryError(f"{kind!r} cannot be suspended; choose one of {', '.join(MODELS)}")
    party = await session.get(model, party_id)
    if not isinstance(party, Developer | Application | Subscription | SubscriptionKey):
        raise NotFoundError(f"no {kind} {party_id!r}")
    return party


async def owner_of(session: AsyncSession, party: Party) -> Developer:
    if isinstance(party, SubscriptionKey):
        party = await session.get_one(Subscription, party.subscription_id)
    if isinstance(party, Subscription):
        party = await session.get_one(Application, party.application_id)
    if isinstance(party, Application):
        party = await session.get_one(Developer, party.developer_id)
    return party


def describe(party: Party) -> str:
    if isinstance(party, Developer):
        return f"developer account {party.email}"
    if isinstance(party, Application):
        return f"application {party.name!r}"
    if isinstance(party, Subscription):
        return "subscription"
    return f"key {party.prefix}…"


async def change_status(
    session: AsyncSession, kind: str, party_id: str, status: Status, reason: str, actor: str
) -> Party:
    """Suspend (status SUSPENDED) or reinstate (ACTIVE) one party."""
    why = reason.strip()
    if not why:
        raise RegistryError("give a reason; it is recorded and sent to the developer")
    if status is Status.REVOKED:
        raise RegistryError("revocation is final; use key revoke or termination instead")
    party = await find_party(session, kind, party_id)
    if party.status is Status.REVOKED:
        raise RegistryError(f"the {describe(party)} is revoked; that cannot be undone")
    if party.status is status:
        raise RegistryError(f"the {describe(party)} is already {status.value}")
    party.status = status
    party.status_reason = why
    if isinstance(party, Developer) and status is Status.SUSPENDED:
        end_every_session(party)
    action = "suspended" if status is Status.SUSPENDED else "reinstated"
    await record(session, actor, action, kind, party.id, why)
    record_access_change(session, kind, party.id)
    developer = await owner_of(session, party)
    notify_developer(
        session,
        developer,
        action,
        f"Your {describe(party)} was {action}",
        f"The provider {action} your {describe(party)}.\n\nReason: {why}\n\n"
        + (
            "Requests with its credentials are refused until it is reinstated (clause 3.1). "
            "Reply through the portal to discuss."
            if status is Status.SUSPENDED
            else "Requests with its credentials are accepted again."
        ),
    )
    return party
