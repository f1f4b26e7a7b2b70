"""One table of refusals (`termgate.problems`): every refusal names a clause the terms define, is
an error document of the published contract, its code and type are documented in docs/errors.md,
and no product module keeps a table of its own."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

import termgate.problems as problems
from termgate.problems import (
    PROBLEM_CONTENT_TYPE,
    REFUSALS,
    VALIDATION,
    ProblemWriter,
    Refusal,
)
from termgate.registry.clauses import load_policy
from tests.support.contract_errors import error_schema_violations, examples

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


def _documented() -> dict[int, set[str]]:
    """docs/errors.md's table: the types it gives each code."""
    table = (ROOT / "docs" / "errors.md").read_text()
    documented: dict[int, set[str]] = defaultdict(set)
    for code, kind in re.findall(r"^\| \d{3} \| (\d{5}) \| `(\w+)` \|", table, re.M):
        documented[int(code)].add(kind)
    return documented


def test_clause_3_1_docs_errors_lists_every_code() -> None:
    missing = sorted({refusal.code for refusal in REFUSALS} - set(_documented()))
    assert not missing


def test_clause_3_1_docs_errors_gives_every_code_its_type() -> None:
    documented = _documented()
    wrong = {
        refusal.code: (refusal.type, documented[refusal.code])
        for refusal in REFUSALS
        if documented[refusal.code] != {refusal.type}
    }
    assert not wrong


def _rendered(writer: ProblemWriter, refusal: Refusal) -> dict[str, object]:
    params = [{"name": "pageSize", "reason": "must be at most 100"}]
    invalid_params = params if refusal is VALIDATION else None
    body = writer.render(refusal, "Why it was refused.", "req-1", invalid_params=invalid_params)
    decoded: dict[str, object] = orjson.loads(body)
    return decoded


def test_clause_3_1_every_refusal_is_an_error_document_of_the_contract() -> None:
    writer = ProblemWriter("https://developer.example/errors")
    invalid = {
        refusal.title: violations
        for refusal in REFUSALS
        if (violations := error_schema_violations(_rendered(writer, refusal), refusal.status))
    }
    assert not invalid
    problem = _rendered(writer, VALIDATION)
    assert problem["invalid-params"] == [{"name": "pageSize", "reason": "must be at most 100"}]
    assert problem["docUrl"] == "https://developer.example/errors#40001"


def test_clause_3_1_each_code_has_one_type() -> None:
    types: dict[int, set[str]] = defaultdict(set)
    for refusal in REFUSALS:
        types[refusal.code].add(refusal.type)
    assert {code: kinds for code, kinds in types.items() if len(kinds) > 1} == {}


def test_clause_3_1_codes_the_contract_shows_carry_its_type_and_status() -> None:
    shown = {example["code"]: example for example in examples()}
    ours = [refusal for refusal in REFUSALS if refusal.code in shown]
    assert len({refusal.code for refusal in ours}) >= 8  # 40101, 40102, 40303, 40401, 42908, ...
    differing = [
        (refusal.code, refusal.type, refusal.status)
        for refusal in ours
        if (refusal.type, refusal.status)
        != (shown[refusal.code]["type"], shown[refusal.code]["httpStatus"])
    ]
    assert not differing


def test_clause_3_1_the_precomputed_document_is_the_refusal_s_problem() -> None:
    writer = ProblemWriter("/errors", PROBLEM_CONTENT_TYPE)
    for refusal in REFUSALS:
        extra = {"resetAt": "2026-12-01T00:00:00+01:00", "required": ["a", "b"]}
        body = writer.render(refusal, 'détail "quoted"', "req-2", **extra)
        expected = refusal.problem(
            'détail "quoted"', instance="req-2", doc_url=f"/errors#{refusal.code}", **extra
        )
        assert orjson.loads(body) == expected
    # A refusal made outside the table (the admin API names the operation's clause) too.
    chosen = Refusal(409, 40901, "invalidRequestError", "Not possible", "3.1")
    assert orjson.loads(writer.render(chosen, "no")) == chosen.problem(
        "no", doc_url="/errors#40901"
    )


def test_clause_3_1_problems_are_written_as_json_or_as_rfc_9457_only() -> None:
    assert ProblemWriter().content_type == "application/json"
    assert ProblemWriter(content_type=PROBLEM_CONTENT_TYPE).content_type == PROBLEM_CONTENT_TYPE
    with pytest.raises(ValueError, match="content type"):
        ProblemWriter(content_type="text/plain")


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
