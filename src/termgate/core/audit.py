"""The append-only audit trail: who did what to which record, when and why.

Each entry's hash covers its content and its predecessor's hash, so removing or altering a row
breaks the chain that `verify_chain` walks. Writers take a transaction-scoped lock on PostgreSQL so
two concurrent entries cannot claim the same predecessor (SQLite serialises writers already).

Every entry is also one log line (`termgate.decisions`, event `decision`) once its transaction
commits: an operator's log shows each suspension, revocation, plan change or amendment with its
actor and reason, and never one that was rolled back.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from termgate.db.models import utcnow
from termgate.db.programme import AuditEntry

GENESIS = "0" * 64
AUDIT_LOCK = 7_310_001  # advisory lock id of the audit chain
PENDING = "termgate.audit.pending"  # the session's entries not yet committed
decisions = logging.getLogger("termgate.decisions")


def _digest(previous: str, entry: AuditEntry) -> str:
    content = "\x1f".join(
        (
            previous,
            entry.at.isoformat(),
            entry.actor,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.reason,
        )
    )
    return hashlib.sha256(content.encode()).hexdigest()


async def record(
    session: AsyncSession, actor: str, action: str, entity: str, entity_id: str, reason: str = ""
) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK})
    last = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(), actor=actor, action=action, entity=entity, entity_id=entity_id, reason=reason
    )
    entry.previous_hash = last or GENESIS
    entry.hash = _digest(entry.previous_hash, entry)
    session.add(entry)
    await session.flush()
    _pending(session.sync_session).append(
        {
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "reason": reason,
            "audit_id": entry.id,
        }
    )
    return entry


def _pending(session: Session) -> list[dict[str, Any]]:
    pending: list[dict[str, Any]] | None = session.info.get(PENDING)
    if pending is None:
        pending = session.info[PENDING] = []
        event.listen(session, "after_commit", _write_decisions)
        event.listen(session, "after_rollback", _forget_decisions)
    return pending


def _write_decisions(session: Session) -> None:
    pending: list[dict[str, Any]] = session.info.get(PENDING, [])
    for fields in pending:
        decisions.info("decision", extra=fields)
    pending.clear()


def _forget_decisions(session: Session) -> None:
    session.info.get(PENDING, []).clear()


async def verify_chain(session: AsyncSession) -> int | None:
    """The id of the first entry whose hash does not follow from its predecessor, or None."""
    previous = GENESIS
    for entry in await session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.previous_hash != previous or entry.hash != _digest(previous, entry):
            return entry.id
        previous = entry.hash
    return None


async def trail(
    session: AsyncSession, entity_id: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    return list(await session.scalars(query))
