"""One table of refusals (`termgate.problems`): every refusal names a clause the terms define, its
code is documented in docs/errors.md, and no product module keeps a table of its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import termgate.problems as problems
from termgate.problems import REFUSALS, Refusal
from termgate.registry.clauses import load_policy

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "termgate"
# The reference API stands in for the upstream: its codes are the upstream's, not termgate's.
NOT_THE_PRODUCT = SOURCE / "reference_api"


def test_clause_3_1_the_table_holds_every_refusal_of_the_module() -> None:
    declared = [value for value in vars(problems).values() if isinstance(value, Refusal)]
    assert len(REFUSALS) == len(declared) > 30
    assert set(REFUSALS) == set(declared)


def test_clause_3_1_every_refusal_names_a_clause_of_the_terms_policy() -> None:
    clauses = load_policy(ROOT / "terms").clauses
    unknown = {
        refusal.type: refusal.clause for refusal in REFUSALS if refusal.clause not in clauses
    }
    assert not unknown


def test_clause_3_1_every_code_belongs_to_its_status() -> None:
    mismatched = [refusal for refusal in REFUSALS if refusal.code // 100 != refusal.status]
    assert not mismatched


def test_clause_3_1_docs_errors_lists_every_code() -> None:
    table = (ROOT / "docs" / "errors.md").read_text()
    documented = {int(code) for code in re.findall(r"^\| \d{3} \| (\d{5}) \|", table, re.M)}
    missing = sorted({refusal.code for refusal in REFUSALS} - documented)
    assert not missing


def _refusals_built_in(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Refusal"
    ]


def test_clause_3_1_no_product_module_keeps_a_table_of_its_own() -> None:
    elsewhere = {
        str(path.relative_to(SOURCE)): lines
        for path in SOURCE.rglob("*.py")
        if path != SOURCE / "problems.py"
        and not path.is_relative_to(NOT_THE_PRODUCT)
        and (lines := _refusals_built_in(path))
    }
    assert not elsewhere
