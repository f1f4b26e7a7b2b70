"""What the server answers from: the world of a seed, its generated records and its writes."""

from __future__ import annotations

from termgate.reference_api.contract import Schema
from termgate.reference_api.errors import INVALID_COMPANY, ApiError, not_found
from termgate.reference_api.fake import Generator
from termgate.reference_api.operations import Operation, operations
from termgate.reference_api.records import Records, collection_items
from termgate.reference_api.world import Company, Debtor, World

EMPLOYEE_VIEWS = "/api/companies/{companyId}/employees/"
EMPLOYEE_PATHS = "/api/employees/{employeeId}/"


class PublishedApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.generator = Generator()
        self.records = Records(world, self.generator)
        self.version = 0  # bumped by every write; cached answers of older versions are stale
        self.collections = employee_collections(operations())

    def company(self, raw: str) -> Company:
        found = self.world.company_by_id.get(raw.lower())
        if found is None:
            raise ApiError(
                INVALID_COMPANY, "Company not found. Check if the company Id is correct."
            )
        return found

    def debtor(self, raw: str) -> Debtor:
        found = self.world.debtor_by_id.get(raw.lower())
        if found is None:
            raise not_found("debtor", raw)
        return found

    def employee(self, raw: str) -> int:
        found = self.world.employee_index(raw)
        if found is None:
            raise not_found("employee", raw)
        return found

    def collection(self, index: int, name: str) -> list[dict[str, object]]:
        return self.records.items("employee", index, name, self.collections[name])

    def editable(self, index: int, name: str) -> list[dict[str, object]]:
        self.version += 1
        return self.records.editable("employee", index, name, self.collections[name])


def employee_collections(found: tuple[Operation, ...]) -> dict[str, Schema]:
    """An employee's collections by name, with their item schemas: the arrays of the company's
    employee views (`addresses`, `contracts`, ...) and the employee's own lists (`fixedhours`)."""
    collections: dict[str, Schema] = {}
    for operation in found:
        if operation.method != "GET" or operation.kind != "list":
            continue
        if operation.template.startswith(EMPLOYEE_VIEWS):
            for name, sub in operation.schema.get("properties", {}).items():
                items = collection_items(sub)
                if items is not None:
                    collections[name] = items
        elif operation.template.startswith(EMPLOYEE_PATHS):
            collections[operation.template.removeprefix(EMPLOYEE_PATHS)] = operation.schema
    return collections
