"""Suspension and reinstatement (clause 3.1) through `change_status`, on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Status
from termgate.db.programme import AuditEntry, OutboxMail
from termgate.notify.inbox import inbox
from termgate.registry.status import change_status, describe, find_party, owner_of
from tests.unit.registry_support import changes, parties

Sessions = async_sessionmaker[AsyncSession]
SUSPENDED_BODY = (
    "Requests with its credentials are refused until it is reinstated (clause 3.1). "
    "Reply through the portal to discuss."
)


def party_ids(made: object) -> dict[str, str]:
    return {
        "developer": made.developer.id,  # type: ignore[attr-defined]
        "application": made.application.id,  # type: ignore[attr-defined]
        "subscription": made.subscription.id,  # type: ignore[attr-defined]
        "key": made.key.row.id,  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("kind", ["developer", "application", "subscription", "key"])
async def test_clause_3_1_suspension_is_recorded_told_and_fed_to_the_gateway(
    db: Sessions, kind: str
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        party_id = party_ids(made)[kind]
        before = await changes(session)
        party = await change_status(session, kind, party_id, Status.SUSPENDED, " abuse ", "ops")
        assert party.status is Status.SUSPENDED
        assert party.status_reason == "abuse"
        audit = (await session.scalars(select(AuditEntry))).all()[-1]
        assert (audit.actor, audit.action, audit.entity, audit.entity_id, audit.reason) == (
            "ops",
            "suspended",
            kind,
            party_id,
            "abuse",
        )
        assert (await changes(session))[len(before) :] == [(kind, party_id)]
        name = describe(party)
        message = (await inbox(session, made.developer))[0]
        assert (message.kind, message.subject) == ("suspended", f"Your {name} was suspended")
        assert message.body == (
            f"The provider suspended your {name}.\n\nReason: abuse\n\n{SUSPENDED_BODY}"
        )
        [mail] = (
            await session.scalars(select(OutboxMail).where(OutboxMail.kind == "suspended"))
        ).all()
        assert (mail.recipient, mail.subject) == ("ann@example.nl", message.subject)
        assert (mail.reference, mail.state.value) == (message.id, "pending")


async def test_clause_3_1_reinstatement_restores_access_and_says_so(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        await change_status(session, "application", made.application.id, Status.SUSPENDED, "x", "o")
        party = await change_status(
            session, "application", made.application.id, Status.ACTIVE, "cured", "ops"
        )
        assert (party.status, party.status_reason) == (Status.ACTIVE, "cured")
        audit = (await session.scalars(select(AuditEntry))).all()[-1]
        assert (audit.action, audit.reason) == ("reinstated", "cured")
        message = (await inbox(session, made.developer))[0]
        assert message.kind == "reinstated"
        assert message.body == (
            'The provider reinstated your application "Ann\'s payroll app".\n\nReason: cured\n\n'
            "Requests with its credentials are accepted again."
        )


async def test_clause_3_1_suspending_a_developer_ends_their_sessions(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        epoch = made.developer.session_epoch or 0
        await change_status(session, "key", made.key.row.id, Status.SUSPENDED, "x", "o")
        assert (made.developer.session_epoch or 0) == epoch
        await change_status(session, "developer", made.developer.id, Status.SUSPENDED, "x", "o")
        assert made.developer.session_epoch == epoch + 1
        await change_status(session, "developer", made.developer.id, Status.ACTIVE, "x", "o")
        assert made.developer.session_epoch == epoch + 1


async def test_clause_3_1_suspension_needs_a_reason_and_a_known_party(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        with pytest.raises(RegistryError, match=r"^give a reason; it is recorded and sent to"):
            await change_status(session, "key", made.key.row.id, Status.SUSPENDED, "  ", "o")
        with pytest.raises(RegistryError, match=r"^revocation is final; use key revoke or term"):
            await change_status(session, "key", made.key.row.id, Status.REVOKED, "x", "o")
        with pytest.raises(
            RegistryError,
            match=r"^'plan' cannot be suspended; choose one of developer, application, "
            r"subscription, key$",
        ):
            await change_status(session, "plan", "p1", Status.SUSPENDED, "x", "o")
        with pytest.raises(NotFoundError, match=r"^no application 'nope'$"):
            await change_status(session, "application", "nope", Status.SUSPENDED, "x", "o")
        assert made.key.row.status is Status.ACTIVE


async def test_clause_3_1_no_change_to_the_same_status_or_from_revoked(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        key = made.key.row
        with pytest.raises(RegistryError, match=f"^the key {key.prefix}… is already active$"):
            await change_status(session, "key", key.id, Status.ACTIVE, "x", "o")
        key.status = Status.REVOKED
        with pytest.raises(
            RegistryError, match=f"^the key {key.prefix}… is revoked; that cannot be undone$"
        ):
            await change_status(session, "key", key.id, Status.ACTIVE, "x", "o")


async def test_clause_3_1_parties_are_named_and_owned_by_their_developer(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        assert describe(made.developer) == "developer account ann@example.nl"
        assert describe(made.application) == 'application "Ann\'s payroll app"'
        assert describe(made.subscription) == "subscription"
        assert describe(made.key.row) == f"key {made.key.row.prefix}…"
        for kind, party_id in party_ids(made).items():
            party = await find_party(session, kind, party_id)
            assert party.id == party_id
            assert (await owner_of(session, party)).id == made.developer.id
