"""The whole catalogue file: products and plans, the weekly maintenance window, the lifecycle of
operations. Read and checked entirely before anything changes; applied in the caller's one
transaction; written back by `termgate export` so that export → apply changes nothing.

Only what differs is changed, audited and fed to the gateways: applying a file twice leaves the
audit trail as the first time left it. Dates a lifecycle entry leaves out are kept as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.errors import RegistryError
from termgate.db.traffic import LifecycleState, MaintenanceRule, OperationLifecycle
from termgate.governance.lifecycle import set_lifecycle
from termgate.governance.maintenance import MAX_DURATION_MINUTES, parse_time
from termgate.governance.maintenance_calendar import WEEKDAYS, set_rule
from termgate.registry.catalogue import (
    OPERATION_ID,
    ProductSpec,
    current_catalogue,
    upsert_product,
)
from termgate.registry.catalogue_toml import (
    Problems,
    key_shown,
    parse_products,
    product_table,
    read_toml,
)
from termgate.strict import time_zone

Step = Callable[[], Awaitable[list[str]]]
TABLES = ("maintenance", "products", "lifecycle")
HEADER = (
    "# termgate catalogue: products, plans, the weekly maintenance window and the lifecycle of\n"
    "# operations. Apply with `termgate apply FILE`; format: docs/catalogue.md.\n\n"
)


@dataclass(frozen=True)
class MaintenanceSpec:
    weekday: int  # Monday 0 … Sunday 6
    start_time: str  # "HH:MM", local to time_zone
    duration_minutes: int
    time_zone: str

    def __str__(self) -> str:
        return (
            f"{WEEKDAYS[self.weekday]} {self.start_time} {self.time_zone}, "
            f"{self.duration_minutes} min"
        )


@dataclass(frozen=True)
class LifecycleSpec:
    operation_id: str
    state: LifecycleState
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    migration_url: str | None = None


@dataclass(frozen=True)
class Catalogue:
    products: tuple[ProductSpec, ...] = ()
    maintenance: MaintenanceSpec | None = None
    lifecycle: tuple[LifecycleSpec, ...] = ()


def _maintenance(problems: Problems, table: Any) -> MaintenanceSpec | None:
    if not isinstance(table, dict):
        problems.add("maintenance", "must be a table")
        return None
    before = len(problems.lines)
    wanted = ("weekday", "start_time", "duration_minutes", "time_zone")
    for name in table:
        if name not in wanted:
            problems.add(
                "maintenance", f"{key_shown(name)} is not a field; use {', '.join(wanted)}"
            )
    for name in wanted:
        if name not in table:
            problems.add("maintenance", f"{name} is missing")
    if len(problems.lines) > before:
        return None
    days = [day.lower() for day in WEEKDAYS]
    weekday = table["weekday"]
    if not isinstance(weekday, str) or weekday.lower() not in days:
        problems.add("maintenance", f"weekday must be a day's name: {', '.join(WEEKDAYS)}")
    start = table["start_time"]
    try:
        start = f"{parse_time(start):%H:%M}" if isinstance(start, str) else ""
    except ValueError:
        start = ""
    if not start:
        problems.add("maintenance", 'start_time must be a time of day as "HH:MM"')
    minutes = table["duration_minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        minutes = -1
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        problems.add("maintenance", f"duration_minutes must be 1 to {MAX_DURATION_MINUTES}")
    zone = table["time_zone"]
    if not isinstance(zone, str) or time_zone(zone) is None:
        problems.add("maintenance", "time_zone must be a time zone such as Europe/Amsterdam")
    if len(problems.lines) > before:
        return None
    return MaintenanceSpec(days.index(weekday.lower()), start, minutes, zone)


def _moment(problems: Problems, where: str, name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        problems.add(
            where, f"{name} must be a date and time with its offset, e.g. 2027-06-30T00:00:00Z"
        )
        return None
    return value.astimezone(UTC)


def _web_address(url: Any) -> bool:
    if not isinstance(url, str) or len(url) > 2000 or not url.isprintable():
        return False
    parts = urlsplit(url)
    plain = not any(char in url for char in ' <>"')
    return parts.scheme in ("http", "https") and bool(parts.netloc) and plain


def _lifecycle_entry(problems: Problems, operation: str, table: Any) -> LifecycleSpec | None:
    where = f"lifecycle.{key_shown(operation)}"
    before = len(problems.lines)
    if not OPERATION_ID.fullmatch(operation):
        problems.add(where, "the key must be an operationId (letters, digits, _ . : -)")
    if not isinstance(table, dict):
        problems.add(where, "must be a table")
        return None
    wanted = ("state", "deprecated_at", "sunset_at", "migration_url")
    for name in table:
        if name not in wanted:
            problems.add(where, f"{key_shown(name)} is not a field; use {', '.join(wanted)}")
    states = [state.value for state in LifecycleState]
    state = table.get("state")
    if state not in states:
        problems.add(where, f"state must be one of {', '.join(states)}")
    deprecated = _moment(problems, where, "deprecated_at", table.get("deprecated_at"))
    sunset = _moment(problems, where, "sunset_at", table.get("sunset_at"))
    if deprecated and sunset and sunset <= deprecated:
        problems.add(where, "sunset_at must come after deprecated_at")
    url = table.get("migration_url")
    if url is not None and not _web_address(url):
        problems.add(where, "migration_url must be an http(s) URL")
    if len(problems.lines) > before:
        return None
    return LifecycleSpec(operation, LifecycleState(str(state)), deprecated, sunset, url)


def parse_catalogue(document: dict[str, Any], shown: str) -> Catalogue:
    """The checked catalogue, or a CatalogueFileError listing every problem (one line each)."""
    problems = Problems(shown)
    for name in document:
        if name not in TABLES:
            problems.add(
                "", f"{key_shown(name)} is not a table of a catalogue; use {', '.join(TABLES)}"
            )
    products = parse_products(problems, document.get("products", {}))
    maintenance = None
    if "maintenance" in document:
        maintenance = _maintenance(problems, document["maintenance"])
    lifecycle: list[LifecycleSpec] = []
    entries = document.get("lifecycle", {})
    if not isinstance(entries, dict):
        problems.add("lifecycle", "must be a table")
        entries = {}
    for operation, table in entries.items():
        entry = _lifecycle_entry(problems, operation, table)
        lifecycle.extend([entry] if entry else [])
    problems.raise_any()
    return Catalogue(tuple(products), maintenance, tuple(lifecycle))


def read_catalogue(path: Path) -> Catalogue:
    document, shown = read_toml(path)
    return parse_catalogue(document, shown)


async def _active_rule(session: AsyncSession) -> MaintenanceRule | None:
    found: MaintenanceRule | None = await session.scalar(
        select(MaintenanceRule).where(MaintenanceRule.active.is_(True)).limit(1)
    )
    return found


def _rule_spec(rule: MaintenanceRule) -> MaintenanceSpec:
    return MaintenanceSpec(rule.weekday, rule.start_time, rule.duration_minutes, rule.time_zone)


async def _apply_maintenance(session: AsyncSession, spec: MaintenanceSpec, actor: str) -> list[str]:
    rule = await _active_rule(session)
    if rule is not None and _rule_spec(rule) == spec:
        return []
    await set_rule(
        session,
        weekday=spec.weekday,
        start_time=spec.start_time,
        duration_minutes=spec.duration_minutes,
        time_zone=spec.time_zone,
        actor=actor,
    )
    was = str(_rule_spec(rule)) if rule is not None else "none"
    return [f"maintenance: weekly window {was} → {spec}"]


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _lifecycle_matches(row: OperationLifecycle | None, spec: LifecycleSpec) -> bool:
    if row is None:
        return spec.state is LifecycleState.ACTIVE
    if row.state is not spec.state:
        return False
    if spec.state is LifecycleState.ACTIVE:
        return True
    pairs = (
        (spec.deprecated_at, _utc(row.deprecated_at)),
        (spec.sunset_at, _utc(row.sunset_at)),
        (spec.migration_url, row.migration_url),
    )
    return all(wanted is None or wanted == stored for wanted, stored in pairs)


async def _apply_lifecycle(
    session: AsyncSession, spec: LifecycleSpec, actor: str, now: datetime
) -> list[str]:
    row = await session.scalar(
        select(OperationLifecycle).where(OperationLifecycle.operation_id == spec.operation_id)
    )
    if _lifecycle_matches(row, spec):
        return []
    was = row.state.value if row is not None else "active"
    await set_lifecycle(
        session,
        [spec.operation_id],
        spec.state,
        actor=actor,
        now=now,
        sunset_at=spec.sunset_at,
        migration_url=spec.migration_url,
        deprecated_at=spec.deprecated_at,
    )
    detail = f"{was} → {spec.state.value}" if was != spec.state.value else "dates or guide changed"
    return [f"lifecycle {spec.operation_id}: {detail}"]


async def apply_catalogue(
    session: AsyncSession, catalogue: Catalogue, actor: str, now: datetime, shown: str
) -> list[str]:
    """Bring the database to the catalogue; one line per change, [] when it already matched.
    A refusal names the file and the table, and the caller's transaction rolls everything back."""
    steps: list[tuple[str, Step]] = []
    if catalogue.maintenance is not None:
        steps.append(
            ("maintenance", partial(_apply_maintenance, session, catalogue.maintenance, actor))
        )
    for product in catalogue.products:
        table = f"products.{product.slug}"
        steps.append((table, partial(upsert_product, session, product, actor)))
    for entry in catalogue.lifecycle:
        table = f"lifecycle.{entry.operation_id}"
        steps.append((table, partial(_apply_lifecycle, session, entry, actor, now)))
    lines: list[str] = []
    for table, step in steps:
        try:
            lines.extend(await step())
        except RegistryError as error:
            raise RegistryError(f"{shown}: [{table}] {error}") from None
    return lines


async def export_catalogue(session: AsyncSession) -> Catalogue:
    rule = await _active_rule(session)
    rows = await session.scalars(
        select(OperationLifecycle).order_by(OperationLifecycle.operation_id)
    )
    lifecycle = tuple(
        LifecycleSpec(
            row.operation_id,
            row.state,
            _utc(row.deprecated_at),
            _utc(row.sunset_at),
            row.migration_url,
        )
        for row in rows
    )
    products = tuple(await current_catalogue(session))
    return Catalogue(products, _rule_spec(rule) if rule else None, lifecycle)


def _lifecycle_table(spec: LifecycleSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"state": spec.state.value}
    for name in ("deprecated_at", "sunset_at", "migration_url"):
        if getattr(spec, name) is not None:
            table[name] = getattr(spec, name)
    return table


def render(catalogue: Catalogue) -> str:
    """The catalogue as TOML in the file's format."""
    document: dict[str, Any] = {}
    if catalogue.maintenance is not None:
        spec = catalogue.maintenance
        document["maintenance"] = {
            "weekday": WEEKDAYS[spec.weekday],
            "start_time": spec.start_time,
            "duration_minutes": spec.duration_minutes,
            "time_zone": spec.time_zone,
        }
    document["products"] = {spec.slug: product_table(spec) for spec in catalogue.products}
    if catalogue.lifecycle:
        document["lifecycle"] = {
            spec.operation_id: _lifecycle_table(spec) for spec in catalogue.lifecycle
        }
    return HEADER + tomli_w.dumps(document)
