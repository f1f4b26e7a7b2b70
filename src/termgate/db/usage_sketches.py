"""What the hourly summary cannot add up, per hour and operation, sketched (clause 4.1: the
provider monitors use): the distinct objects the requests read, and their latencies.

The usage pages give, over a range, the distinct end users served and the distinct employees,
companies and debtors the requests named, and each operation's p50 and p99 latency. Neither adds
up across hours or operations, so without help both read every event of the range: over all
applications a day of a busy API is millions of events, tens of seconds (docs/performance.md).
So once an hour is over the monitoring thread stores here, per operation and for every operation
together (`EVERY_OPERATION`):

- the hour's exact distinct counts and a HyperLogLog sketch of each kind's values (Apache
  DataSketches, `LG_K`: a relative standard error of 1.6 %, at most ~2 KB a sketch, exact in
  practice up to a few hundred values);
- the hour's requests, refusals (by code) and bytes, so a range over all applications reads
  these rows and not the hourly summary, whose groups (keys × operations × outcomes) reach tens
  of thousands an hour on a busy API;
- per operation, a relative-error quantiles sketch of its latencies (REQ, `LATENCY_K`, most
  accurate at the high ranks: p99 within about 0.01 % of rank, p50 within 0.5 %; ~3 KB).

Sketches of several hours or operations merge into the sketch of their union, which is what a
day, a week or an operation over a range needs (`Distinct`, `Latencies`): estimates, which the
pages mark as such.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datasketches import hll_sketch, hll_union, req_floats_sketch, tgt_hll_type
from sqlalchemy import BigInteger, Integer, LargeBinary, PrimaryKeyConstraint, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from termgate.db.models import Base, UsageEvent, UTCDateTime
from termgate.db.usage_hourly import UsageHour

TABLE = "usage_hourly_sketches"
EVERY_OPERATION = ""  # the row of every operation of the hour together
NO_OPERATION = "(no operation)"  # the events of requests that matched none
# Distinct objects read, one column of the events each: the end users served and the tenants
# of the paths (the ids the gateway recorded for detection).
OBJECTS_READ: dict[str, InstrumentedAttribute[Any]] = {
    "end_users": UsageEvent.end_user_id,
    "employees": UsageEvent.employee_id,
    "companies": UsageEvent.company_id,
    "debtors": UsageEvent.debtor_id,
}
LG_K = 12  # 4,096 registers: 1.04 / sqrt(4096) = 1.6 % relative standard error
SKETCH_TYPE = tgt_hll_type.HLL_4  # half a byte a register once dense; merges with any type
LATENCY_K = 12
HIGH_RANKS = True  # the REQ sketch's accuracy where p99 is


class UsageHourlySketches(Base):
    """One hour and operation (or every operation): its events counted, summed and sketched."""

    __tablename__ = TABLE

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    operation: Mapped[str] = mapped_column(String(200), nullable=False)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # What `usage_hours` counted when the hour was sketched (read before its events): while it
    # counts the same, no event came since.
    hour_events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refusals: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes_in: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes_out: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refusal_codes: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: code → refusals
    end_users: Mapped[int] = mapped_column(Integer, nullable=False)
    employees: Mapped[int] = mapped_column(Integer, nullable=False)
    companies: Mapped[int] = mapped_column(Integer, nullable=False)
    debtors: Mapped[int] = mapped_column(Integer, nullable=False)
    end_users_sketch: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    employees_sketch: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    companies_sketch: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    debtors_sketch: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    latency_sketch: Mapped[bytes | None] = mapped_column(LargeBinary)  # not on EVERY_OPERATION

    # Read by a range of hours (the usage pages), deleted by hour (retention, a re-sketch).
    __table_args__ = (PrimaryKeyConstraint("hour", "operation", name="pk_usage_hourly_sketches"),)


async def events_per_hour(
    session: AsyncSession, first: datetime, last: datetime
) -> dict[datetime, int]:
    """The events of each hour in [first, last) that had any (`usage_hours`, which the usage
    writer keeps in the transaction of the events: an hour it does not name had none)."""
    counted = await session.execute(
        select(UsageHour.hour, UsageHour.events).where(
            UsageHour.hour >= first, UsageHour.hour < last
        )
    )
    return {hour: int(events) for hour, events in counted}


def unsketched(counted: Mapping[datetime, int], sketched: Mapping[datetime, int]) -> list[datetime]:
    """The hours with events (`counted`, from `events_per_hour`) whose sketch is missing or was
    made at another count (`sketched`: each hour's `hour_events`), oldest first: a sketch holds
    all its hour's events while `usage_hours` counts what it counted when it was made."""
    return sorted(hour for hour, events in counted.items() if sketched.get(hour) != events)


@dataclass
class Sums:
    """Requests, refusals and bytes: what a sketched row holds beside its sketches (its requests
    are its `events`), and what a report adds up from such rows and from events."""

    requests: int = 0
    refusals: int = 0
    bytes_in: int = 0
    bytes_out: int = 0

    def add(self, requests: int, refusals: int, bytes_in: int, bytes_out: int) -> None:
        self.requests += requests
        self.refusals += refusals
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out


def new_sketch() -> Any:
    return hll_sketch(LG_K, SKETCH_TYPE)


def stored_sketch(sketch: Any) -> bytes:
    return bytes(sketch.serialize_compact())


class Distinct:
    """The distinct values of one kind over several parts (hours, operations, a cut edge read
    from the events), each given with its exact count: exact while there is one part, the
    estimate of the sketches' union once there are more."""

    __slots__ = ("_largest", "_parts", "_union")

    def __init__(self) -> None:
        self._union = hll_union(LG_K)
        self._parts = 0
        self._largest = 0  # the union holds at least the largest part's values

    def add_stored(self, sketch: bytes, count: int) -> None:
        if count == 0:
            return
        self._union.update(hll_sketch.deserialize(sketch))
        self._added(count)

    def add_values(self, values: Collection[str]) -> None:
        if not values:
            return
        sketch = new_sketch()
        for value in values:
            sketch.update(value)
        self._union.update(sketch)
        self._added(len(values))

    def _added(self, count: int) -> None:
        self._parts += 1
        self._largest = max(self._largest, count)

    @property
    def estimated(self) -> bool:
        return self._parts > 1

    def count(self) -> int:
        if not self.estimated:
            return self._largest
        return max(self._largest, round(float(self._union.get_estimate())))


def new_latencies() -> Any:
    return req_floats_sketch(LATENCY_K, HIGH_RANKS)


class Latencies:
    """The latencies of one operation over several parts (hours, the cut edges' events)."""

    __slots__ = ("_merged",)

    def __init__(self) -> None:
        self._merged = new_latencies()

    @property
    def estimated(self) -> bool:
        """Whether there are quantiles: the sketch's are items at estimated ranks, even of
        values all given here, not the interpolated percentiles the events give."""
        return not self._merged.is_empty()

    def add_stored(self, sketch: bytes | None) -> None:
        if sketch is not None:
            self._merged.merge(req_floats_sketch.deserialize(sketch))

    def add_values(self, values: Iterable[float]) -> None:
        merged = self._merged
        for value in values:
            merged.update(value)

    def quantiles(self, fractions: Mapping[str, float]) -> dict[str, float]:
        """Each named fraction's quantile (empty when there were no latencies)."""
        if self._merged.is_empty():
            return {}
        return {name: float(self._merged.get_quantile(q)) for name, q in fractions.items()}
