"""Collections of records per owner (an employee, a company, a debtor, or the whole API).

A collection (an employee's `contracts`, a company's `runs`) is generated from the seed, its
owner and its name the first time it is read, and kept in a bounded memo; a write copies it into
`changed`, where it stays, so later reads show the write. Its records' own ids name their owner,
collection and position, so `belongs` can tell whether an id belongs to a collection.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

from termgate.reference_api.contract import Schema
from termgate.reference_api.fake import Generator, collection_code, merged
from termgate.reference_api.guids import Kind
from termgate.reference_api.hints import Ctx
from termgate.reference_api.seeding import seeded
from termgate.reference_api.sizes import count
from termgate.reference_api.world import World

Record = dict[str, Any]
MEMO_LIMIT = 8_192
# Collections whose `name` is a person's; elsewhere a record's `name` describes the record.
PEOPLE = frozenset({"managers", "absencecasemanagers", "accountantcontact", "contactpersons",
                    "managers/useraccounts", "useraccounts", "children"})  # fmt: skip


class Records:
    def __init__(self, world: World, generator: Generator) -> None:
        self.world = world
        self.generator = generator
        self.changed: dict[tuple[str, int, str], list[Record]] = {}
        self._memo: OrderedDict[tuple[str, int, str], list[Record]] = OrderedDict()
        self.changes = 0  # numbers the records and ids writes create

    def context(self, owner_kind: str, owner: int, collection: str, position: int) -> Ctx:
        rng = seeded(f"{self.world.seed}:{owner_kind}:{owner}:{collection}:{position}")
        ctx = Ctx(self.world, rng, collection, position)
        if owner_kind == "employee":
            ctx.person = self.world.person(owner)
            ctx.company = self.world.companies[ctx.person.company]
        elif owner_kind == "company":
            ctx.company = self.world.companies[owner]
        if ctx.company is not None:
            ctx.debtor = self.world.debtors[ctx.company.debtor]
        elif owner_kind == "debtor":
            ctx.debtor = self.world.debtors[owner]
        if owner_kind != "employee" and collection.lower() not in PEOPLE:
            ctx.entity = "record"
        return ctx

    def count(self, owner_kind: str, owner: int, collection: str) -> int:
        return count(self.world.seed, owner_kind, owner, collection)

    def items(self, owner_kind: str, owner: int, collection: str, schema: Schema) -> list[Record]:
        """The collection as it stands (do not change the list: `editable` gives one to change)."""
        key = (owner_kind, owner, collection)
        found = self.changed.get(key)
        if found is not None:
            return found
        found = self._memo.get(key)
        if found is None:
            found = [
                self.generator.record(schema, self.context(*key, position), owner_kind, owner)
                for position in range(self.count(*key))
            ]
            self._keep(key, found)
        else:
            self._memo.move_to_end(key)
        return found

    def _keep(self, key: tuple[str, int, str], records: list[Record]) -> None:
        self._memo[key] = records
        if len(self._memo) > MEMO_LIMIT:
            self._memo.popitem(last=False)

    def view(self, owner_kind: str, owner: int, name: str, schema: Schema) -> Record:
        """One record about an owner whose arrays of objects are the owner's collections (the
        `addresses` of an employee in `GET .../employees/addresses`), as they stand now."""
        key = (owner_kind, owner, f"@{name}")
        scalars = self._memo.get(key)
        properties = merged(schema).get("properties", {})
        if scalars is None:
            ctx = self.context(owner_kind, owner, name, 0)
            scalars = [
                {
                    prop: ctx.person.id
                    if prop.lower() == "employeeid" and ctx.person is not None
                    else self.generator.value(sub, prop, ctx)
                    for prop, sub in properties.items()
                    if collection_items(sub) is None
                }
            ]
            self._keep(key, scalars)
        record: Record = {}
        for prop, sub in properties.items():
            items = collection_items(sub)
            if items is None:
                record[prop] = scalars[0][prop]
            else:
                record[prop] = self.items(owner_kind, owner, prop, items)
        return record

    def editable(
        self, owner_kind: str, owner: int, collection: str, schema: Schema
    ) -> list[Record]:
        key = (owner_kind, owner, collection)
        if key not in self.changed:
            self.changed[key] = copy.deepcopy(self.items(*key, schema))
        return self.changed[key]

    def new_record(self, owner_kind: str, owner: int, collection: str, schema: Schema) -> Record:
        """A fresh record for a write to fill in; its id names the owner and collection too."""
        self.changes += 1
        ctx = self.context(owner_kind, owner, collection, 1000 + self.changes)
        record = self.generator.record(schema, ctx, owner_kind, owner)
        return record

    def belongs(self, guid: str, owner_kind: str, owner: int, collection: str) -> int | None:
        """The position `guid` names in the owner's generated collection, if it names one."""
        decoded = self.world.codec.decode(guid)
        if decoded is None or decoded.kind != Kind.RECORD or decoded.a != owner:
            return None
        if decoded.b != collection_code(owner_kind, collection):
            return None
        return decoded.c if decoded.c < self.count(owner_kind, owner, collection) else None


def collection_items(schema: Schema) -> Schema | None:
    """The item schema if `schema` is an array of objects (a collection), else None."""
    schema = merged(schema)
    if schema.get("type") != "array":
        return None
    items = merged(schema.get("items", {}))
    return items if items.get("type") == "object" or "properties" in items else None
