"""Values for any schema of the document, field-name aware (`hints`) and seeded.

`record(schema, ctx)` walks a schema (`$ref`, `allOf`, objects, arrays, enums, formats, bounds)
and fills every declared property. Identifiers follow the record's place: `employeeId`,
`companyId` and `debtorId` are those of the record's owner; the record's own id (its first other
`...Id` property) names its owner, collection and position (`ids.record_id`), so the paths that
take it can find it again; a hint is kept only when it fits the property's schema.
"""

from __future__ import annotations

import re
import zlib
from datetime import date, datetime
from typing import Any

from termgate.reference_api.contract import Schema, resolve
from termgate.reference_api.guids import Kind
from termgate.reference_api.hints import MISSING, Ctx, hint
from termgate.reference_api.sizes import count

MAX_DEPTH = 8
_CONTEXT_IDS = ("employeeid", "companyid", "debtorid")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_ID = re.compile(r"^id$|Id$|ID$")


# Ids that refer to a record of the company's or debtor's own listings, by property name.
REFERENCES: dict[str, tuple[str, str]] = {
    "costcenterid": ("company", "costCenters"),
    "costunitid": ("company", "costUnits"),
    "leavegroupid": ("company", "leaveGroups"),
    "salarytableid": ("company", "salarytables"),
    "payrollrunid": ("company", "runs"),
    "wagetaxid": ("company", "wagetaxes"),
    "departmentid": ("debtor", "departments"),
    "functionid": ("debtor", "functions"),
    "managerid": ("debtor", "managers"),
    "casemanagerid": ("debtor", "absencecasemanagers"),
}


def collection_code(kind: str, collection: str) -> int:
    """A stable number for a collection of an owner kind (`zlib.crc32` is stable everywhere)."""
    return zlib.crc32(f"{kind}:{collection.lower()}".encode())


def record_id(ctx: Ctx, owner_kind: str, owner: int, position: int) -> str:
    code = collection_code(owner_kind, ctx.collection)
    return ctx.world.codec.encode(Kind.RECORD, owner, code, position)


def reference(ctx: Ctx, name: str) -> str | None:
    """An id from the owning company's or debtor's listing that `name` refers to, if any."""
    found = REFERENCES.get(name.lower())
    if found is None:
        return None
    kind, collection = found
    holder = ctx.company if kind == "company" else ctx.debtor
    if holder is None:
        return None
    size = count(ctx.world.seed, kind, holder.index, collection)
    if size == 0:
        return None
    code = collection_code(kind, collection)
    return ctx.world.codec.encode(Kind.RECORD, holder.index, code, ctx.rng.randrange(size))


def primary_id(schema: Schema) -> str | None:
    """The property that identifies a record of `schema` (its first `...Id` not of an owner)."""
    for name, sub in merged(schema).get("properties", {}).items():
        if (
            _ID.search(name)
            and name.lower() not in _CONTEXT_IDS
            and resolve(sub).get("type") == "string"
        ):
            return str(name)
    return None


def merged(schema: Schema) -> Schema:
    schema = resolve(schema)
    if "allOf" not in schema:
        return schema
    result: Schema = {key: value for key, value in schema.items() if key != "allOf"}
    properties: dict[str, Any] = {}
    for part in schema["allOf"]:
        part = merged(part)
        properties.update(part.get("properties", {}))
        result.update({k: v for k, v in part.items() if k not in ("properties", "nullable")})
    if properties:
        result["properties"] = properties
    return result


def accepts(schema: Schema, value: Any) -> bool:
    """Whether `value` fits `schema`'s type, enum, format and bounds (a quick filter for hints)."""
    if value is None:
        return bool(schema.get("nullable"))
    enum = schema.get("enum")
    if enum and value not in enum:
        return False
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string":
        if not isinstance(value, str) or len(value) < schema.get("minLength", 0):
            return False
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return False
        return not (fmt == "date" and not _DATE.fullmatch(value)) and not (
            fmt == "date-time" and not value.endswith("Z")
        )
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if kind == "integer" and not isinstance(value, int):
            return False
        low, high = schema.get("minimum"), schema.get("maximum")
        return (low is None or value >= low) and (high is None or value <= high)
    if kind == "boolean":
        return isinstance(value, bool)
    return kind is None and isinstance(value, str | int | float)


def _convert(value: Any, schema: Schema) -> Any:
    fmt = schema.get("format")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if fmt != "date" else value.date().isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z" if fmt == "date-time" else value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and schema.get("type") == "string":
        return str(value)
    if isinstance(value, float) and schema.get("type") == "integer" and value.is_integer():
        return int(value)
    return value


class Generator:
    """Fills schemas for one world (its GUID codec) with the values a record's context gives."""

    def record(self, schema: Schema, ctx: Ctx, owner_kind: str, owner: int) -> dict[str, Any]:
        schema = merged(schema)
        value = self._object(schema, ctx, 0, primary_id(schema), owner_kind, owner)
        return value

    def value(self, schema: Schema, name: str, ctx: Ctx, depth: int = 0) -> Any:
        schema = merged(schema)
        proposed = hint(name, ctx) if name else MISSING
        if proposed is not MISSING:
            proposed = _convert(proposed, schema)
            if accepts(schema, proposed):
                return proposed
        enum = [item for item in schema.get("enum") or () if item is not None]
        if enum:
            return ctx.rng.choice(enum)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if depth >= MAX_DEPTH:
                return {}
            outer, ctx.parent = ctx.parent, name
            try:
                return self._object(schema, ctx, depth + 1, None, "", 0)
            finally:
                ctx.parent = outer
        if kind == "array":
            if depth >= MAX_DEPTH:
                return []
            low = max(schema.get("minItems", 1), 1)
            count = ctx.rng.randint(low, max(low, min(schema.get("maxItems", 2), 2)))
            items = [
                self.value(schema.get("items", {}), name, ctx, depth + 1) for _ in range(count)
            ]
            if schema.get("uniqueItems"):
                items = list({repr(item): item for item in items}.values())
            return items
        return self._scalar(schema, name, ctx)

    def _object(
        self, schema: Schema, ctx: Ctx, depth: int, primary: str | None, owner_kind: str,
        owner: int,
    ) -> dict[str, Any]:  # fmt: skip
        result: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            lowered = name.lower()
            refers = reference(ctx, name) if name != primary or owner_kind == "employee" else None
            if refers is not None and resolve(prop).get("type") == "string":
                result[name] = refers
            elif primary is not None and name == primary:
                result[name] = record_id(ctx, owner_kind, owner, ctx.position)
            elif lowered == "employeeid" and ctx.person is not None:
                result[name] = ctx.person.id
            elif lowered == "companyid" and ctx.company is not None:
                result[name] = ctx.company.id
            elif lowered == "debtorid" and ctx.debtor is not None:
                result[name] = ctx.debtor.id
            else:
                result[name] = self.value(prop, name, ctx, depth)
        return result

    def _scalar(self, schema: Schema, name: str, ctx: Ctx) -> Any:
        rng, kind, fmt = ctx.rng, schema.get("type"), schema.get("format")
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "integer":
            low = int(schema.get("minimum", 1))
            return rng.randint(low, max(low, int(schema.get("maximum", low + 99))))
        if kind == "number":
            bottom = float(schema.get("minimum", 0))
            top = float(schema.get("maximum", bottom + 500))
            return round(rng.uniform(bottom, top), 2)
        if fmt == "uuid":
            return ctx.world.codec.encode(
                Kind.RECORD, rng.randrange(1 << 40), rng.randrange(1 << 32)
            )
        if fmt == "date":
            return f"{ctx.year}-{ctx.period:02d}-{rng.randint(1, 28):02d}"
        if fmt == "date-time":
            return f"{ctx.year}-{ctx.period:02d}-{rng.randint(1, 28):02d}T09:00:00Z"
        if fmt == "email":
            return ctx.someone().email
        if fmt == "uri":
            return "https://api.nmbrsapp.com/api"
        text = f"{name[:1].upper()}{name[1:]} {ctx.position + 1}" if name else "Waarde"
        return text.ljust(schema.get("minLength", 0), "0")
