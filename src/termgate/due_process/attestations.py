"""Deletion attestations (clause 6.4): after termination the developer states what stored content
was deleted, when and by whom, by a deadline.

An attestation is a signed record: its statement is signed as a JWS (ES256) with the server's
signing key, and the JWS's SHA-256 is written into the hash-chained audit trail, so neither the
statement nor its place in time can be changed unseen. `verify_attestation` checks both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import hash_key
from termgate.db.due_process_records import DeletionAttestation, Termination
from termgate.db.models import Developer
from termgate.db.oauth import SigningKey
from termgate.db.programme import AuditEntry
from termgate.governance.errors import PolicyInputError
from termgate.identity.signing_keys import ALGORITHM, seal_of, signing_key
from termgate.notify.inbox import notify_developer
from termgate.settings import Settings

JWS_TYPE = "deletion-attestation+jws"


@dataclass(frozen=True)
class AttestationInput:
    statement: str
    deleted_on: str  # an ISO date (2026-12-01) or date-time
    deleted_by: str


async def termination_for_link(
    session: AsyncSession, termination_id: str, token: str
) -> Termination:
    """The termination the mailed link names, when its secret matches; else not found (the
    same refusal for a wrong secret as for an unknown id)."""
    termination = await session.get(Termination, termination_id)
    if termination is None or not token or hash_key(token) != termination.attestation_token_hash:
        raise NotFoundError("this attestation link is not valid")
    return termination


def _moment(value: str, now: datetime) -> datetime:
    text = value.strip()
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), time(), UTC)
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise PolicyInputError("deleted_on", f"{value!r} is not a date (YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise PolicyInputError("deleted_on", "the deletion cannot be in the future")
    return moment


def _checked(given: AttestationInput, now: datetime) -> tuple[str, datetime, str]:
    statement = given.statement.strip()
    if not statement:
        raise PolicyInputError("statement", "say what stored content was deleted")
    if len(statement) > 5000:
        raise PolicyInputError("statement", "the statement is longer than 5000 characters")
    deleted_by = given.deleted_by.strip()
    if not deleted_by or len(deleted_by) > 200:
        raise PolicyInputError("deleted_by", "name who deleted it (at most 200 characters)")
    return statement, _moment(given.deleted_on, now), deleted_by


async def attest(
    session: AsyncSession, termination: Termination, given: AttestationInput, settings: Settings
) -> DeletionAttestation:
    """Records and signs the attestation; refuses (409) a second one."""
    now = settings.now()
    statement, deleted_on, deleted_by = _checked(given, now)
    if await attestation_of(session, termination) is not None:
        raise RegistryError("the deletion was already attested for this termination")
    developer = await session.get_one(Developer, termination.developer_id)
    claims = {
        "iss": settings.issuer,
        "termination": termination.id,
        "developer": developer.id,
        "developer_email": developer.email,
        "statement": statement,
        "deleted_on": deleted_on.isoformat(),
        "deleted_by": deleted_by,
        "attested_at": now.isoformat(),
    }
    key = await signing_key(session, seal_of(settings))
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": JWS_TYPE}
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"))
    token = jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])
    digest = hashlib.sha256(token.encode()).hexdigest()
    actor = f"developer:{developer.email}"
    reason = f"jws-sha256 {digest}; {deleted_by} deleted on {deleted_on:%Y-%m-%d}"
    entry = await record(session, actor, "attested-deletion", "termination", termination.id, reason)
    attestation = DeletionAttestation(
        termination_id=termination.id,
        developer_id=developer.id,
        statement=statement,
        deleted_on=deleted_on,
        deleted_by=deleted_by,
        attested_at=now,
        attested_by=developer.email,
        jws=token,
        jws_sha256=digest,
        audit_entry_id=entry.id,
    )
    session.add(attestation)
    await session.flush()
    return attestation


async def attestation_of(
    session: AsyncSession, termination: Termination
) -> DeletionAttestation | None:
    query = select(DeletionAttestation).where(DeletionAttestation.termination_id == termination.id)
    return await session.scalar(query)


async def verify_attestation(session: AsyncSession, attestation: DeletionAttestation) -> list[str]:
    """What is wrong with the attestation's proof; empty when the signature holds and the audit
    entry written with it names the JWS's hash."""
    problems = []
    digest = hashlib.sha256(attestation.jws.encode()).hexdigest()
    if digest != attestation.jws_sha256:
        problems.append("the stored JWS does not have the recorded hash")
    entry = await session.get(AuditEntry, attestation.audit_entry_id)
    if entry is None or f"jws-sha256 {digest}" not in entry.reason:
        problems.append("the audit entry does not name the JWS's hash")
    try:
        kid = jws.extract_compact(attestation.jws.encode()).protected.get("kid")
        row = await session.get(SigningKey, str(kid))
        if row is None:
            problems.append("the signing key is no longer published")
        else:
            public = ECKey.import_key(json.loads(row.public_jwk))
            jws.deserialize_compact(attestation.jws, public, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        problems.append("the signature does not verify")
    return problems


def attestation_document(attestation: DeletionAttestation) -> dict[str, Any]:
    """The exportable record: the statement, the JWS that signs it, and its audit entry."""
    return {
        "id": attestation.id,
        "termination_id": attestation.termination_id,
        "developer_id": attestation.developer_id,
        "statement": attestation.statement,
        "deleted_on": attestation.deleted_on.isoformat(),
        "deleted_by": attestation.deleted_by,
        "attested_at": attestation.attested_at.isoformat(),
        "attested_by": attestation.attested_by,
        "jws": attestation.jws,
        "jws_sha256": attestation.jws_sha256,
        "audit_entry_id": attestation.audit_entry_id,
    }


async def outstanding(session: AsyncSession) -> list[tuple[Termination, Developer]]:
    """Terminations without an attestation, the earliest deadline first: who has not attested."""
    query = (
        select(Termination, Developer)
        .join(Developer, Termination.developer_id == Developer.id)
        .outerjoin(DeletionAttestation, DeletionAttestation.termination_id == Termination.id)
        .where(DeletionAttestation.id.is_(None))
        .order_by(Termination.attestation_due_at)
    )
    return [(termination, developer) for termination, developer in await session.execute(query)]


async def attestation_deadlines(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: marks each attestation past its deadline, once, audited and told."""
    acted = 0
    for termination, developer in await outstanding(session):
        if termination.attestation_due_at > now or termination.attestation_overdue_at:
            continue
        termination.attestation_overdue_at = now
        reason = f"no deletion attestation by {termination.attestation_due_at:%Y-%m-%d %H:%M} UTC"
        await record(
            session, "scheduler", "attestation-overdue", "termination", termination.id, reason
        )
        notify_developer(
            session,
            developer,
            "attestation-overdue",
            "Your deletion attestation is overdue",
            f"Clause 6.4: {reason}. Attest through the link in the termination notice.",
        )
        acted += 1
    return acted
