"""What the gateway holds of maintenance and lifecycles, worked out once per snapshot load.

Times here are on the gateway's raw wall clock (`time.time()`, the clock offset already taken
off), so the request path compares `exchange.started_at` with plain floats: the next maintenance
window (clause 8), and per operation its brown-outs, its retirement and the `Deprecation`,
`Sunset` and `Link` headers (clause 4.6) as ready tuples.

A snapshot is reloaded when the access-change feed moves or at `reload_at` (the end of the next
window), so the next window after that is always in place, without a query per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.traffic import Brownout, LifecycleState, OperationLifecycle
from termgate.governance.maintenance import merged, windows
from termgate.governance.maintenance_calendar import load_calendar

INFINITY = math.inf
LOOKAHEAD = timedelta(weeks=5)  # far more than one week between two reloads
Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """An operation that is not simply active: its headers, brown-outs and retirement."""

    operation_id: str
    headers: tuple[Header, ...]
    brownouts: tuple[tuple[float, float], ...] = ()
    retire_at: float = INFINITY
    sunset: str = ""  # the sunset date, for problem details
    migration_url: str | None = None


@dataclass(frozen=True, slots=True)
class AvailabilityPolicy:
    # The maintenance window in force or next (start, end), and when it ends as text.
    maintenance_start: float = INFINITY
    maintenance_end: float = INFINITY
    maintenance_until: str = ""
    # Operations by operationId that are deprecated, sunset or retired.
    operations: dict[str, OperationPolicy] = field(default_factory=dict)
    # Their response headers alone, for the forwarded responses.
    headers: dict[str, tuple[Header, ...]] = field(default_factory=dict)
    # The snapshot reloads at this raw wall-clock time even when nothing changed.
    reload_at: float = INFINITY


NO_POLICY = AvailabilityPolicy()


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def lifecycle_headers(row: OperationLifecycle) -> tuple[Header, ...]:
    """RFC 9745 `Deprecation: @<seconds>`, RFC 8594 `Sunset`, and the migration guide."""
    headers: list[Header] = []
    deprecated = row.deprecated_at or row.updated_at
    headers.append(("deprecation", f"@{int(deprecated.timestamp())}"))
    if row.sunset_at is not None:
        headers.append(("sunset", http_date(row.sunset_at)))
    if row.migration_url:
        headers.append(("link", f'<{row.migration_url}>; rel="deprecation"'))
    return tuple(headers)


def operation_policy(
    row: OperationLifecycle, brownouts: list[Brownout], clock_offset: float
) -> OperationPolicy:
    retire_at = INFINITY
    if row.state is LifecycleState.RETIRED:
        retire_at = row.sunset_at.timestamp() - clock_offset if row.sunset_at else -INFINITY
    periods = tuple(
        sorted(
            (b.start.timestamp() - clock_offset, b.end.timestamp() - clock_offset)
            for b in brownouts
        )
    )
    return OperationPolicy(
        operation_id=row.operation_id,
        headers=lifecycle_headers(row),
        brownouts=periods,
        retire_at=retire_at,
        sunset=f"{row.sunset_at:%Y-%m-%d %H:%M} UTC" if row.sunset_at else "",
        migration_url=row.migration_url,
    )


async def load_policy(session: AsyncSession, clock_offset: float = 0.0) -> AvailabilityPolicy:
    now = datetime.now(UTC) + timedelta(seconds=clock_offset)
    rules, changes = await load_calendar(session)
    periods = merged(windows(rules, changes, now, now + LOOKAHEAD))
    start = end = reload_at = INFINITY
    until = ""
    if periods:
        begins, ends = periods[0]
        start, end = begins.timestamp() - clock_offset, ends.timestamp() - clock_offset
        reload_at = end
        until = f"{ends:%Y-%m-%d %H:%M} UTC"
    else:
        reload_at = (now + LOOKAHEAD).timestamp() - clock_offset
    rows = list(
        await session.scalars(
            select(OperationLifecycle).where(OperationLifecycle.state != LifecycleState.ACTIVE)
        )
    )
    brownouts: dict[str, list[Brownout]] = {}
    if rows:
        for brownout in await session.scalars(
            select(Brownout).where(Brownout.lifecycle_id.in_([row.id for row in rows]))
        ):
            brownouts.setdefault(brownout.lifecycle_id, []).append(brownout)
    operations = {
        row.operation_id: operation_policy(row, brownouts.get(row.id, []), clock_offset)
        for row in rows
    }
    return AvailabilityPolicy(
        maintenance_start=start,
        maintenance_end=end,
        maintenance_until=until,
        operations=operations,
        headers={name: policy.headers for name, policy in operations.items() if policy.headers},
        reload_at=reload_at,
    )
