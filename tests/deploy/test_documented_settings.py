"""Issue 14: an operator configures termgate from the docs alone, so every `TERMGATE_*` variable
the docs name must be one termgate reads: a setting, the `_FILE` variant of a secret one, or one
of the few variables read outside the settings (listed here with where they are read)."""

from __future__ import annotations

import re
from pathlib import Path

from termgate.secret_settings import FILE_FIELDS
from termgate.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\bTERMGATE_[A-Z0-9_]*[A-Z0-9]\b")
# Read outside `Settings`: init's first administrator (cli/install.py), the settings file and the
# var folder (settings.py), the test suite's PostgreSQL (tests/conftest.py), and the image tag
# compose substitutes (deploy/compose.yaml).
READ_ELSEWHERE = {
    "TERMGATE_ADMIN_EMAIL", "TERMGATE_ADMIN_NAME", "TERMGATE_ADMIN_PASSWORD",
    "TERMGATE_ADMIN_PASSWORD_FILE", "TERMGATE_CONFIG", "TERMGATE_VAR_DIR",
    "TERMGATE_TEST_POSTGRES", "TERMGATE_VERSION",
}  # fmt: skip
# Written as a family in prose ("`TERMGATE_SMTP_*`", "`TERMGATE_SIGNIN_*`").
FAMILIES = {"TERMGATE_SMTP", "TERMGATE_SIGNIN", "TERMGATE_MAIL"}


def known_variables() -> set[str]:
    settings = {f"TERMGATE_{name.upper()}" for name in Settings.model_fields}
    files = {f"TERMGATE_{name.upper()}_FILE" for name in FILE_FIELDS}
    return settings | files | READ_ELSEWHERE | FAMILIES


def documented() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for page in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for name in VARIABLE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(page.name)
    return found


def test_issue_14_every_variable_the_docs_name_is_read_by_termgate() -> None:
    unknown = {name: pages for name, pages in documented().items() if name not in known_variables()}
    assert unknown == {}, unknown


def test_issue_14_every_setting_is_in_the_configuration_table() -> None:
    table = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in sorted(f"TERMGATE_{field.upper()}" for field in Settings.model_fields)
        if f"`{name}`" not in table
    ]
    assert missing == [], missing


def test_the_check_sees_a_variable_that_does_not_exist() -> None:
    assert "TERMGATE_DATABSE_URL" not in known_variables()
    assert VARIABLE.findall("set `TERMGATE_DATABSE_URL=…`") == ["TERMGATE_DATABSE_URL"]
