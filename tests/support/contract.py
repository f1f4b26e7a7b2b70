"""The published contract, `../shared/contract/payroll-api-openapi.yaml` beside the repository.

From a git worktree (`<somewhere>/<name>`) the repository's parent holds no `shared/`; the main
checkout's does, so the git common directory's grandparent is tried next.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
CONTRACT_FILE = "payroll-api-openapi.yaml"


def _git_common_dir() -> Path | None:
    try:
        answer = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(answer.stdout.strip())


def contract_dir() -> Path:
    """The folder of the published contract; fails, saying where it looked, when it is absent."""
    candidates = [REPOSITORY.parent / "shared" / "contract"]
    common = _git_common_dir()
    if common is not None:
        candidates.append(common.parent.parent / "shared" / "contract")
    for candidate in candidates:
        if (candidate / CONTRACT_FILE).is_file():
            return candidate
    looked = ", ".join(str(candidate) for candidate in candidates)
    raise FileNotFoundError(f"the published contract is not in {looked}")


def contract_path() -> Path:
    return contract_dir() / CONTRACT_FILE


@cache
def _published() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(contract_path().read_bytes(), Loader=loader)
    return document


def published_document() -> dict[str, Any]:
    """The published document (read once per test process; do not change it)."""
    return _published()
