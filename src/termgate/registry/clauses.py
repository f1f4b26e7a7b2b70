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
class Policy:
    title: str
    version: str
    document: Path
    reaccept_days: int
    clauses: dict[str, Clause]

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
    )
