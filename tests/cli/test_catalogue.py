"""`termgate apply FILE` and `termgate export`: the catalogue in version control, applied
idempotently in one transaction, refused line by line, written back so that it round-trips."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from termgate.cli import app
from termgate.db.migrate import upgrade
from termgate.db.programme import AuditEntry
from termgate.registry.catalogue_toml import DEFAULT_FILE
from termgate.settings import get_settings
from tests.cli.catalogue_support import counts
from tests.cli.test_admin import read

CATALOGUE = str(DEFAULT_FILE)
CHANGED = """
[products.production]
name = "Production"
description = "Every operation on your customers' real payroll data; for approved applications."
environment = "production"

[products.production.plans.standard]
name = "Standard"
rate_limit_per_minute = 900
max_end_users = "unlimited"

[products.production.plans.gold]
name = "Gold"
rate_limit_per_minute = 6000
price_cents_per_month = 49000
quota_period = "rolling:30"

[lifecycle.listPayslips]
state = "deprecated"
sunset_at = 2027-06-30T00:00:00Z
migration_url = "https://developer.example/migrate/payslips-v2"
"""


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database of the test's own, named in the environment."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalogue.db'}"
    upgrade(url)
    monkeypatch.setenv("TERMGATE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def applied(*args: str) -> list[str]:
    result = invoke("apply", *args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout.splitlines()


def test_apply_twice_changes_and_audits_nothing(fresh: str) -> None:
    first = applied(CATALOGUE)
    assert first == [
        "maintenance: weekly window none → Wednesday 20:00 Europe/Amsterdam, 60 min",
        "product sandbox: created",
        "plan sandbox/free: created",
        "product production: created",
        "plan production/standard: created",
        "5 change(s)",
    ]
    before = counts(fresh)
    assert (before.products, before.plans, before.rules) == (2, 2, 1)
    assert before.audit == 5
    assert applied(CATALOGUE) == ["no changes"]
    assert counts(fresh) == before


def test_apply_audits_each_change_with_the_cli_actor_and_readable_reasons(
    fresh: str, tmp_path: Path
) -> None:
    applied(CATALOGUE)
    changed = tmp_path / "changed.toml"
    changed.write_text(CHANGED, encoding="utf-8")
    assert applied(str(changed)) == [
        "plan production/standard: rate_limit_per_minute 600 → 900",
        "plan production/standard: quota_per_period 1000000 → unlimited",
        "plan production/standard: max_end_users 10000 → unlimited",
        "plan production/standard: max_debtors 2500 → unlimited",
        "plan production/standard: bandwidth_bytes_per_day 5242880000 → unlimited",
        "plan production/standard: max_response_bytes 10485760 → unlimited",
        "plan production/standard: price_cents_per_month 4900 → 0",
        "plan production/gold: created",
        "lifecycle listPayslips: active → deprecated",
        "9 change(s)",
    ]
    last = read(fresh, select(AuditEntry).where(AuditEntry.action == "changed-plan"))
    assert isinstance(last, AuditEntry)
    assert last.actor == f"cli:{getpass.getuser()}"
    assert "rate_limit_per_minute 600 → 900" in last.reason
    assert "None" not in last.reason
    assert applied(str(changed)) == ["no changes"]


def test_dry_run_prints_the_diff_and_writes_nothing(fresh: str) -> None:
    before = counts(fresh)
    lines = applied("--dry-run", CATALOGUE)
    assert lines[-1] == "5 change(s), none written (dry run)"
    assert counts(fresh) == before


def test_export_then_apply_round_trips(fresh: str, tmp_path: Path) -> None:
    applied(CATALOGUE)
    changed = tmp_path / "changed.toml"
    changed.write_text(CHANGED, encoding="utf-8")
    applied(str(changed))
    exported = tmp_path / "exported.toml"
    result = invoke("export", "--output", str(exported))
    assert result.exit_code == 0, result.output
    before = counts(fresh)
    assert applied(str(exported)) == ["no changes"]
    assert counts(fresh) == before
    text = exported.read_text(encoding="utf-8")
    assert 'max_end_users = "unlimited"' in text
    assert "[products.production.plans.gold]" in text
    assert 'state = "deprecated"' in text
    assert invoke("export").stdout == text


def test_export_into_an_empty_database_applies_into_another(fresh: str, tmp_path: Path) -> None:
    applied(CATALOGUE)
    exported = invoke("export").stdout
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    upgrade(other)
    path = tmp_path / "exported.toml"
    path.write_text(exported, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERMGATE_DATABASE_URL", other)
        get_settings.cache_clear()
        assert len(applied(str(path))) == 6
        assert invoke("export").stdout == exported


def refused_lines(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == ""
    return result.stderr.splitlines()


BAD = """
[products.production]
name = "Production"
environment = "live"
operations = "*"

[products.production.plans.standard]
name = "Standard"
rate_limit_per_minute = -5
max_end_users = "lots"
rate_limt_per_minute = 10

[maintenance]
weekday = "Caturday"
start_time = "25:00"
duration_minutes = 60
time_zone = "Europe/Amsterdam"

[lifecycle.listPayslips]
state = "gone"
sunset_at = 2027-06-30T00:00:00
"""


def test_invalid_file_names_file_table_and_field_one_line_each_and_changes_nothing(
    fresh: str, tmp_path: Path
) -> None:
    applied(CATALOGUE)
    before = counts(fresh)
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    lines = refused_lines(invoke("apply", str(bad)))
    where = f"error: {bad}: "
    assert lines == [
        where + "[products.production] environment must be one of sandbox, production",
        where + '[products.production] operations must be a list of operationIds, or ["*"] '
        "for all of them",
        where + "[products.production.plans.standard] rate_limit_per_minute must be a whole "
        'number of at least 1 (a whole number or "unlimited")',
        where + "[products.production.plans.standard] max_end_users must be a whole number "
        'of at least 1 (a whole number or "unlimited")',
        where + "[products.production.plans.standard] rate_limt_per_minute is not a field of a "
        "plan; choose from name, rate_limit_per_minute, developer_rate_limit_per_minute, "
        "quota_per_period, quota_period, max_end_users, max_debtors, max_page_size, "
        "bandwidth_bytes_per_day, max_response_bytes, max_in_flight, price_cents_per_month, "
        "time_zone",
        where + "[maintenance] weekday must be a day's name: Monday, Tuesday, Wednesday, "
        "Thursday, Friday, Saturday, Sunday",
        where + '[maintenance] start_time must be a time of day as "HH:MM"',
        where + "[lifecycle.listPayslips] state must be one of active, deprecated, sunset, retired",
        where + "[lifecycle.listPayslips] sunset_at must be a date and time with its offset, "
        "e.g. 2027-06-30T00:00:00Z",
    ]
    assert counts(fresh) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[products.x\nname = 1", "not valid TOML: "),
        (b"\xff\xfe[products]", "not UTF-8 text"),
        (b'[products."a\\u001b[2Jb"]\nname = "X"', "[products.'a\\x1b[2Jb'] the product's slug"),
        (b'[products.p]\nenvironment = "sandbox"', "[products.p] name is missing"),
        (
            b'[products.p]\nname = "P"\nenvironment = "sandbox"\nplans = 5',
            "[products.p.plans] must be a table",
        ),
        (
            b'[products.p]\nenvironment = "sandbox"\nname = "P\\u0007"',
            "[products.p] name must not contain control",
        ),
        (b"version = 2", "version is not a table of a catalogue"),
        (
            b'[products.p]\nname="P"\nenvironment="sandbox"\n[products.p.plans.x]\nname="X"\nmax_in_flight=10000000',
            "max_in_flight may be at most 100000",
        ),
        (
            b'[products.p]\nname="P"\nenvironment="sandbox"\n[products.p.plans.x]\nname="X"\nrate_limit_per_minute=true',
            "rate_limit_per_minute must be a whole number",
        ),
        (
            b'[products.p]\nname="P"\nenvironment="sandbox"\n[products.p.plans.x]\nname="X"\nmax_debtors=1e400',
            "max_debtors must be a whole number",
        ),
        (
            b'[lifecycle.op]\nstate="deprecated"\nmigration_url="javascript:alert(1)"',
            "[lifecycle.op] migration_url must be an http(s) URL",
        ),
    ],
)
def test_malformed_file_is_one_clear_line(
    fresh: str, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "odd.toml"
    path.write_bytes(content)
    lines = refused_lines(invoke("apply", str(path)))
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: ")
    assert message in lines[0]
    assert counts(fresh).audit == 0


def test_missing_or_huge_file_is_refused(fresh: str, tmp_path: Path) -> None:
    lines = refused_lines(invoke("apply", str(tmp_path / "nowhere.toml")))
    assert lines == [
        f"error: {tmp_path / 'nowhere.toml'}: cannot read the file (No such file or directory)"
    ]
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * (3 * 1024 * 1024))
    assert "larger than 2 MiB" in refused_lines(invoke("apply", str(huge)))[0]
