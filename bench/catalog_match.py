"""Micro-benchmark: what matching one request to its operation costs (`Catalog.resolve`).

    uv run python bench/catalog_match.py [--document PATH] [--against REV] [--number N]

Matches a few paths of the published contract (`../shared/contract/payroll-api-openapi.yaml`,
or `--document`): literal and parameter branches, early and late templates, and a path of no
operation. Prints the best of `--repeat` runs of N calls per path, in µs per call. `--against
REV` times the catalog module of that git revision beside it, in the same process, interleaved
(it must be self-contained, as `catalog.py` was before the tree matcher: f1c422f).
Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.contract import contract_path

from termgate.gateway.catalog import Catalog
from termgate.gateway.openapi_source import read_document_file

REPOSITORY = Path(__file__).resolve().parents[1]
G = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PATHS = [
    ("GET", "/api/debtors"),
    ("GET", "/api/debtors/info"),
    ("GET", f"/api/companies/{G}/employees"),
    ("GET", f"/api/companies/{G}/employees/addresses"),
    ("POST", f"/api/companies/{G}/employees/{G}/absences/{G}/registrations"),
    ("GET", f"/api/companies/{G}/wagetaxes/{G}/sepa"),
    ("GET", f"/api/companies/{G}/runs/{G}/journalsemployee"),
    ("GET", f"/api/employees/{G}/nothing"),
]


def catalog_at(revision: str) -> Any:
    """The `Catalog` class of `revision`'s gateway/catalog.py, loaded beside today's."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/termgate/gateway/catalog.py"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile(suffix=".py", delete=False) as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location("catalog_before", file.name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalog_before"] = module
    spec.loader.exec_module(module)
    return module.Catalog


def best(catalog: Any, method: str, path: str, number: int, repeat: int) -> float:
    runs = timeit.repeat(lambda: catalog.resolve(method, path), number=number, repeat=repeat)
    return min(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--document", type=Path, default=None)
    parser.add_argument("--against", default=None, help="a git revision to compare with")
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    document = read_document_file(options.document or contract_path())
    now = Catalog.from_openapi(document)
    before = catalog_at(options.against).from_openapi(document) if options.against else None
    for method, path in PATHS:
        found = now.resolve(method, path)
        name = found[0].operation_id if found else "(none: 404)"
        line = f"{best(now, method, path, options.number, options.repeat):6.2f} µs"
        if before is not None:
            was = before.resolve(method, path)
            assert (was[0].operation_id if was else None) == (
                found[0].operation_id if found else None
            )
            then = best(before, method, path, options.number, options.repeat)
            line = f"{then:6.2f} µs before, {line} now"
        print(f"{line}  {method:4} {path.replace(G, '{guid}')}  -> {name}")


if __name__ == "__main__":
    main()
