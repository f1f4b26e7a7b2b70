"""The API lifecycle (clause 4.6): operations go active → deprecated → sunset → retired.

A group of operations is several operationIds changed together (one row each). Brown-outs are
short scheduled periods before the sunset in which the operation answers 410. Every change is
audited and appended to the access-change feed, so every gateway node applies it within a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError
from termgate.db.traffic import Brownout, LifecycleState, OperationLifecycle
from termgate.governance.errors import PolicyConflictError, PolicyInputError

ENTITY = "lifecycle"
MAX_BROWNOUT = timedelta(hours=24)


@dataclass(frozen=True)
class LifecycleView:
    row: OperationLifecycle
    brownouts: list[Brownout]


async def all_lifecycles(session: AsyncSession) -> list[LifecycleView]:
    rows = list(
        await session.scalars(select(OperationLifecycle).order_by(OperationLifecycle.operation_id))
    )
    brownouts: dict[str, list[Brownout]] = {row.id: [] for row in rows}
    for brownout in await session.scalars(select(Brownout).order_by(Brownout.start)):
        brownouts.setdefault(brownout.lifecycle_id, []).append(brownout)
    return [LifecycleView(row, brownouts[row.id]) for row in rows]


def parse_state(text: str) -> LifecycleState:
    try:
        return LifecycleState(text.strip().lower())
    except ValueError:
        choices = ", ".join(state.value for state in LifecycleState)
        raise PolicyInputError("state", f"the state is one of {choices}") from None


def _migration_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in ' <>"'):
        raise PolicyInputError("migration_url", "the migration guide must be an http(s) URL")
    return url


def _utc(field: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise PolicyInputError(field, "give the time with its UTC offset (e.g. …Z)")
    return moment.astimezone(UTC)


async def _row(session: AsyncSession, operation_id: str) -> OperationLifecycle | None:
    found: OperationLifecycle | None = await session.scalar(
        select(OperationLifecycle).where(OperationLifecycle.operation_id == operation_id)
    )
    return found


async def set_lifecycle(
    session: AsyncSession,
    operation_ids: list[str],
    state: LifecycleState,
    *,
    actor: str,
    now: datetime,
    sunset_at: datetime | None = None,
    migration_url: str | None = None,
    deprecated_at: datetime | None = None,
) -> list[OperationLifecycle]:
    """Put each operation in `state`; dates and the migration guide apply to all of them.

    Deprecating needs nothing more; a sunset date must come after the deprecation; retiring
    with a sunset date in the future retires the operation at that date (410 from then on).
    """
    if not operation_ids:
        raise PolicyInputError("operations", "name at least one operationId")
    sunset = _utc("sunset_at", sunset_at)
    deprecated = _utc("deprecated_at", deprecated_at)
    guide = _migration_url(migration_url)
    changed: list[OperationLifecycle] = []
    for operation_id in operation_ids:
        row = await _row(session, operation_id)
        if row is None:
            row = OperationLifecycle(operation_id=operation_id)
            session.add(row)
        row.state = state
        if state is LifecycleState.ACTIVE:
            row.deprecated_at = row.sunset_at = row.migration_url = None
        else:
            row.deprecated_at = deprecated or row.deprecated_at or now
            row.sunset_at = sunset or row.sunset_at
            row.migration_url = guide or row.migration_url
            if sunset is not None and sunset <= row.deprecated_at:
                raise PolicyInputError(
                    "sunset_at", "the sunset must come after the deprecation date"
                )
            if state is LifecycleState.SUNSET and row.sunset_at is None:
                row.sunset_at = now
        row.updated_at = now
        await session.flush()
        what = state.value + (
            f", sunset {row.sunset_at:%Y-%m-%d %H:%M} UTC" if row.sunset_at else ""
        )
        await record(session, actor, f"lifecycle.{state.value}", ENTITY, operation_id, what)
        record_access_change(session, ENTITY, row.id)
        changed.append(row)
    return changed


async def add_brownout(
    session: AsyncSession,
    operation_ids: list[str],
    start: datetime,
    end: datetime,
    *,
    actor: str,
    now: datetime,
) -> list[Brownout]:
    """A brown-out of each (deprecated or sunset) operation: 410 from `start` to `end`."""
    begins, ends = _utc("start", start), _utc("end", end)
    assert begins is not None
    assert ends is not None
    if ends <= begins:
        raise PolicyInputError("end", "a brown-out ends after it starts")
    if ends - begins > MAX_BROWNOUT:
        raise PolicyInputError("end", "a brown-out is short: at most 24 hours")
    if ends <= now:
        raise PolicyConflictError("that brown-out period has passed")
    added: list[Brownout] = []
    for operation_id in operation_ids:
        row = await _row(session, operation_id)
        if row is None or row.state not in (LifecycleState.DEPRECATED, LifecycleState.SUNSET):
            raise PolicyConflictError(
                f"{operation_id} must be deprecated before it can have brown-outs"
            )
        brownout = Brownout(lifecycle_id=row.id, start=begins, end=ends)
        session.add(brownout)
        await session.flush()
        what = f"brown-out {begins:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M} UTC"
        await record(session, actor, "lifecycle.brownout", ENTITY, operation_id, what)
        record_access_change(session, ENTITY, row.id)
        added.append(brownout)
    return added


async def remove_brownout(session: AsyncSession, brownout_id: str, actor: str) -> None:
    brownout = await session.get(Brownout, brownout_id)
    if brownout is None:
        raise NotFoundError(f"no brown-out {brownout_id!r}")
    row = await session.get_one(OperationLifecycle, brownout.lifecycle_id)
    await session.execute(delete(Brownout).where(Brownout.id == brownout_id))
    await record(session, actor, "lifecycle.brownout-removed", ENTITY, row.operation_id)
    record_access_change(session, ENTITY, row.id)
