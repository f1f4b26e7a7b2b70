"""The terms policy file (`terms/policy.toml`): clause ids, titles, severities, cure periods."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

Severity = Literal["minor", "major", "critical"]


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    severity: Severity
    cure_days: int


@dataclass(frozen=True)
class DueProcess:
    """How a case proceeds (clauses 4.2, 6.2): the cure period when a clause names none, the
    days from suspension to termination, and the reminders (days before a cure deadline)."""

    cure_days: int = 10
    terminate_after_days: int = 10
    reminder_days: tuple[int, ...] = (3, 1)


@dataclass(frozen=True)
class Policy:
    title: str
    version: str
    document: Path
    reaccept_days: int
    clauses: dict[str, Clause]
    due_process: DueProcess = DueProcess()

    def clause(self, clause_id: str) -> Clause:
        return self.clauses[clause_id]


class PolicyError(ValueError):
    """The policy file is missing or malformed; the message names the file and the entry."""


def _clause(path: Path, entry: dict[str, Any]) -> Clause:
    try:
        severity = entry["severity"]
        if severity not in ("minor", "major", "critical"):
            raise PolicyError(f"{path}: clause {entry.get('id')}: unknown severity {severity!r}")
        return Clause(str(entry["id"]), str(entry["title"]), severity, int(entry["cure_days"]))
    except KeyError as missing:
        raise PolicyError(f"{path}: clause {entry.get('id', '?')} lacks {missing}") from None


def _due_process(path: Path, entry: dict[str, Any]) -> DueProcess:
    try:
        reminders = tuple(sorted({int(day) for day in entry.get("reminder_days", (3, 1))}))
        found = DueProcess(
            int(entry.get("cure_days", 10)), int(entry.get("terminate_after_days", 10)), reminders
        )
    except (TypeError, ValueError) as error:
        raise PolicyError(f"{path}: [due_process]: {error}") from None
    if found.cure_days < 1 or found.terminate_after_days < 0 or any(d < 1 for d in reminders):
        raise PolicyError(f"{path}: [due_process]: days must be positive")
    return found


@lru_cache(maxsize=4)
def load_policy(terms_dir: Path) -> Policy:
    path = terms_dir / "policy.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"cannot read the terms policy {path}: {error}") from None
    terms = data.get("terms", {})
    clauses = [_clause(path, entry) for entry in data.get("clause", [])]
    return Policy(
        title=str(terms.get("title", "API Terms of Use")),
        version=str(terms.get("version", "1.0")),
        document=terms_dir / str(terms.get("document", "terms.md")),
        reaccept_days=int(terms.get("reaccept_days", 30)),
        clauses={clause.id: clause for clause in clauses},
        due_process=_due_process(path, data.get("due_process", {})),
    )
