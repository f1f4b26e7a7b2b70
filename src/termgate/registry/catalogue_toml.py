"""Reading the catalogue file's products and plans (TOML, like `terms/policy.toml`).

Every problem is one line naming the file, the table and the field, e.g.
`catalogue.toml: [products.production.plans.standard] rate_limit_per_minute must be ...`; all of
them are collected before anything is changed, so a file is applied whole or not at all.
An optional limit is a whole number or "unlimited"; a field left out takes its default (a limit:
unlimited), as `termgate export` writes every field. A product names its name and environment.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from termgate.core.errors import RegistryError
from termgate.registry.catalogue import (
    PLAN_FIELDS,
    PRODUCT_FIELDS,
    PlanSpec,
    ProductSpec,
    check_plan_field,
    check_product_field,
    check_slug,
)
from termgate.registry.plans import OPTIONAL_LIMITS
from termgate.settings import TERMS_DIR

UNLIMITED = "unlimited"
MAX_FILE_BYTES = 2 * 1024 * 1024
DEFAULT_FILE = TERMS_DIR / "catalogue.toml"
REQUIRED_PRODUCT_FIELDS = ("name", "environment")  # a left-out environment must not mean sandbox
PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class CatalogueFileError(RegistryError):
    """The file cannot be applied; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def key_shown(key: str) -> str:
    """A table key as it may be printed: plain keys as they are, anything else quoted."""
    return key if PLAIN_KEY.fullmatch(key) else repr(key[:40])


class Problems:
    """Collects one line per problem, each naming the file and the table."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: list[str] = []

    def add(self, table: str, message: str) -> None:
        where = f"[{table}] " if table else ""
        self.lines.append(f"{self.file}: {where}{message}")

    def raise_any(self) -> None:
        if self.lines:
            raise CatalogueFileError(self.lines)


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed file and its name as shown in messages; one clear line when unreadable."""
    shown = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CatalogueFileError([f"{shown}: cannot read the file ({error.strerror})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise CatalogueFileError([f"{shown}: larger than {limit} MiB; not a catalogue"])
    try:
        return tomllib.loads(raw.decode("utf-8")), shown
    except UnicodeDecodeError:
        raise CatalogueFileError([f"{shown}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogueFileError([f"{shown}: not valid TOML: {error}"]) from None


def _table(problems: Problems, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.add(where, "must be a table")
        return {}
    return value


def _plan(problems: Problems, product: str, slug: str, table: dict[str, Any]) -> PlanSpec | None:
    where = f"products.{product}.plans.{key_shown(slug)}"
    before = len(problems.lines)
    try:
        check_slug(slug)
    except RegistryError as error:
        problems.add(where, f"the plan's slug {error}")
    values: dict[str, Any] = {}
    if "name" not in table:
        problems.add(where, "name is missing")
    for name, value in table.items():
        if name in OPTIONAL_LIMITS and value == UNLIMITED:
            value = None
        try:
            values[name] = check_plan_field(name, value)
        except RegistryError as error:
            hint = f' (a whole number or "{UNLIMITED}")' if name in OPTIONAL_LIMITS else ""
            problems.add(where, f"{key_shown(name)} {error}{hint}")
    if len(problems.lines) > before:
        return None
    return PlanSpec(slug=slug, **values)


def _product(problems: Problems, slug: str, table: dict[str, Any]) -> ProductSpec | None:
    where = f"products.{key_shown(slug)}"
    before = len(problems.lines)
    try:
        check_slug(slug)
    except RegistryError as error:
        problems.add(where, f"the product's slug {error}")
        return None
    values: dict[str, Any] = {}
    for required in REQUIRED_PRODUCT_FIELDS:
        if required not in table:
            problems.add(where, f"{required} is missing")
    plans: list[PlanSpec] = []
    for name, value in table.items():
        if name == "plans":
            for plan_slug, plan in _table(problems, f"{where}.plans", value).items():
                plan_where = f"{where}.plans.{key_shown(plan_slug)}"
                spec = _plan(problems, slug, plan_slug, _table(problems, plan_where, plan))
                plans.extend([spec] if spec else [])
            continue
        try:
            values[name] = check_product_field(name, value)
        except RegistryError as error:
            fields = f"{', '.join(PRODUCT_FIELDS)}, plans"
            message = str(error).replace(", ".join(PRODUCT_FIELDS), fields)
            problems.add(where, f"{key_shown(name)} {message}")
    if len(problems.lines) > before:
        return None
    return ProductSpec(slug=slug, plans=tuple(plans), **values)


def parse_products(problems: Problems, value: Any) -> list[ProductSpec]:
    """The `[products]` table's specs; problems are added, not raised."""
    specs: list[ProductSpec] = []
    for slug, table in _table(problems, "products", value).items():
        spec = _product(problems, slug, _table(problems, f"products.{key_shown(slug)}", table))
        specs.extend([spec] if spec else [])
    return specs


def products_from_file(path: Path = DEFAULT_FILE) -> list[ProductSpec]:
    """The products of a catalogue file (other tables are read by the full catalogue reader)."""
    document, shown = read_toml(path)
    problems = Problems(shown)
    specs = parse_products(problems, document.get("products", {}))
    problems.raise_any()
    return specs


def plan_table(spec: PlanSpec) -> dict[str, Any]:
    """A plan as the file writes it: every field, "unlimited" where there is no limit."""
    return {
        name: UNLIMITED if getattr(spec, name) is None else getattr(spec, name)
        for name in PLAN_FIELDS
    }


def product_table(spec: ProductSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "environment": spec.environment.value,
        "operations": list(spec.operations),
        "plans": {plan.slug: plan_table(plan) for plan in spec.plans},
    }
