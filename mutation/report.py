"""Writes the mutation scores and the surviving mutants into docs/testing.md.

Reads what `mutmut run` left in mutants/ (one .meta file per mutated module) and the verdicts
on survivors in mutation/verdicts.toml, and replaces the part of docs/testing.md between the
two markers. Run by `make mutation` after `mutmut run`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing.md"
BEGIN, END = "<!-- mutation:begin -->", "<!-- mutation:end -->"
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3}, {0}, {5, 33}, {24, -24, 36, 152, 255}
COMMAND = "make mutation (mutmut run --max-children 1; tests: pytest tests/unit)"


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def outcomes(module: str) -> dict[str, int | None]:
    meta = ROOT / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return codes


def changed_line(mutant: str) -> str:
    """The mutated line as `mutmut show` prints it (the + line of its diff)."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    added = [line[1:].strip() for line in shown.splitlines() if line.startswith("+ ")]
    removed = [line[1:].strip() for line in shown.splitlines() if line.startswith("- ")]
    if not added and not removed:
        added = [
            line[1:].strip()
            for line in shown.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        removed = [
            line[1:].strip()
            for line in shown.splitlines()
            if line.startswith("-") and not line.startswith("---")
        ]
    return f"`{' '.join(removed)[:90]}` → `{' '.join(added)[:90]}`"


def table(today: str) -> tuple[list[str], list[str]]:
    verdicts: dict[str, str] = tomllib.loads((ROOT / "mutation" / "verdicts.toml").read_text())
    rows = [
        "| module | mutants | killed | survived | no test reaches it | timeout | score | date |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    survivors: list[str] = []
    total = Counter[str]()
    for module in modules():
        codes = outcomes(module)
        if not codes or all(code is None for code in codes.values()):
            rows.append(f"| `{module}` | not measured | | | | | | |")
            continue
        count = Counter[str]()
        for mutant, code in sorted(codes.items()):
            kind = (
                "not checked"
                if code is None
                else "killed"
                if code in KILLED
                else "survived"
                if code in SURVIVED
                else "no tests"
                if code in NO_TESTS
                else "timeout"
                if code in TIMEOUT
                else "other"
            )
            count[kind] += 1
            if kind in {"survived", "no tests"}:
                verdict = verdicts.get(mutant, "not yet judged")
                survivors.append(f"- `{mutant}` ({kind}): {changed_line(mutant)} — {verdict}")
        measured = sum(count.values()) - count["not checked"]
        score = (count["killed"] + count["timeout"]) / measured
        partial = f" (+{count['not checked']} not run)" if count["not checked"] else ""
        rows.append(
            f"| `{module}` | {measured}{partial} | {count['killed']} | {count['survived']} | "
            f"{count['no tests']} | {count['timeout']} | {score:.1%} | {today} |"
        )
        total.update(count)
    measured = sum(total.values()) - total["not checked"]
    if measured:
        score = (total["killed"] + total["timeout"]) / measured
        rows.append(
            f"| **all measured** | {measured} | {total['killed']} | {total['survived']} | "
            f"{total['no tests']} | {total['timeout']} | **{score:.1%}** | {today} |"
        )
    return rows, survivors


def main() -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    rows, survivors = table(today)
    generated = [
        BEGIN,
        f"Command: `{COMMAND}`. A timeout counts as killed (the mutant hung the code).",
        "",
        *rows,
        "",
        "### Surviving mutants and their verdicts",
        "",
        *(survivors or ["None."]),
        END,
    ]
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + "\n".join(generated) + tail)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
