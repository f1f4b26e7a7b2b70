"""`termgate init`: a production install with no demo data and no known password, through the
real command line; on a fresh PostgreSQL database the documented install ends with a working key."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import signal
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from select import select as wait_readable

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from termgate.cli import app
from termgate.cli.demo_seed import ADMIN, BRAM, DEMI, DEVELOPER_PASSWORD, END_USER_PASSWORD
from termgate.core.passwords import verify_password
from termgate.core.secrets import hash_key
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Developer, Status
from termgate.gateway.snapshot import load_snapshot
from termgate.registry.catalogue_toml import DEFAULT_FILE
from termgate.settings import get_settings
from tests.cli.catalogue_support import administrator_hashes, audit_actors, counts
from tests.conftest import _create_database, _drop_database, _postgres_reachable, _postgres_url
from tests.support.processes import ROOT

PASSWORD = "correct horse battery staple 7"
KNOWN_PASSWORDS = (ADMIN[2], DEVELOPER_PASSWORD, END_USER_PASSWORD, "admin", "password", "")
KEY_SHAPE = re.compile(r"^tg_[A-Za-z0-9_-]{43}$", re.MULTILINE)


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty SQLite file (not even migrated: init migrates) named in the environment."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'install.db'}"
    monkeypatch.setenv("TERMGATE_DATABASE_URL", url)
    monkeypatch.delenv("TERMGATE_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def init(*args: str, password: str | None = PASSWORD) -> Result:
    env = {"TERMGATE_ADMIN_PASSWORD": password} if password is not None else {}
    base = ["init", "--admin-email", "ops@provider.example", "--admin-name", "Olga Ops"]
    return CliRunner().invoke(app, [*base, *args], env=env)


def test_init_creates_the_first_administrator_and_the_catalogue_without_demo_data(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "olga")  # what getpass.getuser() reads first
    result = init("--catalogue", str(DEFAULT_FILE))
    assert result.exit_code == 0, result.output
    assert "administrator ops@provider.example created" in result.stdout
    assert "product production: created" in result.stdout
    made = counts(fresh)
    assert (made.administrators, made.products, made.plans, made.developers) == (1, 2, 2, 0)
    [stored] = administrator_hashes(fresh)
    assert verify_password(stored, PASSWORD)
    # Issue 14: every entry names who ran init, the first administrator's creation included.
    trail = audit_actors(fresh)
    assert trail[0] == ("cli:olga", "created-administrator")
    assert {actor for actor, _ in trail} == {"cli:olga"}


def test_issue_14_everything_the_demo_seed_makes_is_audited_as_the_seed(
    fresh: str, tmp_path: Path
) -> None:
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    credentials = str(tmp_path / "demo.json")
    seeded = CliRunner().invoke(app, ["seed", "--credentials", credentials])
    assert seeded.exit_code == 0, seeded.output
    trail = audit_actors(fresh)
    # What the seed does as the provider is the seed's; the demo's people act as themselves
    # (a developer asks for production, an end user consents, the demo administrator approves).
    made = ("created-administrator", "created-product", "created-plan", "maintenance.rule",
            "published-terms", "accepted-terms")  # fmt: skip
    assert {actor for actor, action in trail if action in made} == {"demo-seed"}
    assert {action for _, action in trail} >= set(made)
    assert "system" not in {actor for actor, _ in trail}


def test_init_twice_says_so_and_changes_nothing(fresh: str) -> None:
    assert init("--catalogue", str(DEFAULT_FILE)).exit_code == 0
    before = counts(fresh)
    again = init("--catalogue", str(DEFAULT_FILE), password="another good passphrase 9")
    assert again.exit_code == 0, again.output
    assert "already initialised" in again.stdout
    assert "nothing changed" in again.stdout
    assert counts(fresh) == before


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "the administrator's password is empty"),
        ("   ", "the administrator's password is empty"),
        ("short", "needs at least 10 characters"),
        (ADMIN[2], "that password is published"),
        (DEVELOPER_PASSWORD, "that password is published"),
        ("aaaaaaaaaaaaaa", "too easy to guess"),
        ("x" + "ops@provider.example", "too easy to guess"),
        ("y" * 2000, "at most 1024 characters"),
    ],
)
def test_init_refuses_an_empty_weak_or_published_password(
    fresh: str, password: str, message: str
) -> None:
    result = init(password=password)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert password.strip() == "" or password not in result.output + result.stderr
    assert counts(fresh).administrators == 0


def test_init_without_a_password_and_without_a_terminal_asks_for_one(fresh: str) -> None:
    result = init(password=None)
    assert result.exit_code == 1, result.output
    assert "--admin-password-file FILE or TERMGATE_ADMIN_PASSWORD" in result.stderr
    assert counts(fresh).administrators == 0


def test_init_reads_the_password_from_a_file(fresh: str, tmp_path: Path) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = init("--admin-password-file", str(secret), password=None)
    assert result.exit_code == 0, result.output
    [stored] = administrator_hashes(fresh)
    assert verify_password(stored, PASSWORD)


def _read_until(terminal: int, token: bytes, seen: bytearray, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while token not in seen and time.monotonic() < deadline:
        if wait_readable([terminal], [], [], 1.0)[0]:
            try:
                seen.extend(os.read(terminal, 1024))
            except OSError:  # the process ended and closed the terminal
                return


def _answer_once_echo_is_off(terminal: int, answer: str, timeout: float = 60.0) -> None:
    """Type the answer only once the prompt has turned echo off.

    getpass turns echo off with TCSAFLUSH, which discards input typed before it: an answer typed
    as soon as the prompt's text shows can be lost (and echoed) on a loaded machine.
    """
    deadline = time.monotonic() + timeout
    while termios.tcgetattr(terminal)[3] & termios.ECHO and time.monotonic() < deadline:
        time.sleep(0.02)
    os.write(terminal, answer.encode() + b"\n")


@pytest.mark.timeout(300)  # one `termgate` process on a loaded machine
def test_init_asks_for_the_password_twice_at_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'prompted.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERMGATE_")}
    env |= {"TERMGATE_DATABASE_URL": url, "COLUMNS": "200"}
    args = ["init", "--admin-email", "ops@provider.example", "--admin-name", "Olga Ops"]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: termgate on a terminal of its own
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "termgate", *args], env)
    seen = bytearray()
    try:
        _read_until(terminal, b"Password for the first administrator", seen)
        _answer_once_echo_is_off(terminal, PASSWORD)
        _read_until(terminal, b"Repeat for confirmation", seen)
        _answer_once_echo_is_off(terminal, PASSWORD)
        _read_until(terminal, b"nothing of the demo was created", seen)
    finally:
        deadline = time.monotonic() + 60
        ended, status = os.waitpid(pid, os.WNOHANG)
        while not ended and time.monotonic() < deadline:
            time.sleep(0.2)
            ended, status = os.waitpid(pid, os.WNOHANG)
        if not ended:  # still waiting for input: the test failed, do not hang
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert PASSWORD.encode() not in seen  # the answer is not echoed
    [stored] = administrator_hashes(url)
    assert verify_password(stored, PASSWORD)


def test_init_with_an_unreadable_password_file_is_one_line(fresh: str, tmp_path: Path) -> None:
    result = init("--admin-password-file", str(tmp_path / "absent"), password=None)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"error: --admin-password-file: cannot read '{tmp_path / 'absent'}': No such file or "
        "directory"
    ]
    assert counts(fresh).administrators == 0


def test_init_with_a_bad_catalogue_creates_no_administrator(fresh: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[products.p]\nname = "P"\nenvironment = "moon"\n', encoding="utf-8")
    result = init("--catalogue", str(bad))
    assert result.exit_code == 1, result.output
    assert f"{bad}: [products.p] environment must be one of" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_init_with_a_bad_email_is_one_line(fresh: str) -> None:
    result = CliRunner().invoke(
        app,
        ["init", "--admin-email", "not an address", "--admin-name", "X"],
        env={"TERMGATE_ADMIN_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 1, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert counts(fresh).administrators == 0


# The documented production install, step by step, each a real `termgate` process.


@pytest.fixture
def postgres_database() -> Iterator[str]:
    reason = asyncio.run(_postgres_reachable())
    if reason:
        pytest.skip(reason)
    name = f"termgate_install_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    try:
        yield _postgres_url(name)
    finally:
        asyncio.run(_drop_database(name))


def termgate(database_url: str, *args: str, **env: str) -> str:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TERMGATE_")},
        "TERMGATE_DATABASE_URL": database_url,
        "TERMGATE_SMTP_PORT": "9",
        "COLUMNS": "200",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "termgate", *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


async def _key_in_snapshot(database_url: str, key: str) -> tuple[str, int | None, Status]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            snapshot = await load_snapshot(session)
            grant = snapshot.keys[hash_key(key)]
            return grant.product_slug, grant.limits.rate, grant.key_status
    finally:
        await engine.dispose()


async def _demo_developers(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            emails = (DEMI[0], BRAM[0])
            return list(
                await session.scalars(select(Developer.email).where(Developer.email.in_(emails)))
            )
    finally:
        await engine.dispose()


@pytest.mark.timeout(900)  # eight `termgate` processes, each 4-5 s to start on a quiet machine
def test_production_install_without_seed(postgres_database: str, tmp_path: Path) -> None:
    url = postgres_database
    password_file = tmp_path / "admin-password"
    password_file.write_text(PASSWORD, encoding="utf-8")
    termgate(
        url, "init", "--admin-email", "ops@provider.example", "--admin-name", "Olga Ops",
        "--admin-password-file", str(password_file),
    )  # fmt: skip
    assert termgate(url, "apply", "terms/catalogue.toml").splitlines()[-1] == "5 change(s)"
    assert termgate(url, "apply", "terms/catalogue.toml").strip() == "no changes"
    termgate(
        url, "terms", "publish", "terms/terms.md", "--version", "1.0",
        "--title", "API Terms of Use", "--summary", "The first version.",
    )  # fmt: skip
    termgate(url, "developer", "create", "ann@customer.example", "--name", "Ann Jansen",
             "--accept-terms")  # fmt: skip
    termgate(url, "app", "create", "--developer", "ann@customer.example", "--name", "Payroll")
    issued = termgate(url, "key", "create", "Payroll", "--product", "sandbox")
    match = KEY_SHAPE.search(issued)
    assert match, issued

    product, rate, status = asyncio.run(_key_in_snapshot(url, match.group(0)))
    assert (product, rate, status) == ("sandbox", 60, Status.ACTIVE)
    hashes = administrator_hashes(url)
    assert len(hashes) == 1
    assert verify_password(hashes[0], PASSWORD)
    for known in KNOWN_PASSWORDS:
        assert not any(verify_password(stored, known) for stored in hashes), known
    assert asyncio.run(_demo_developers(url)) == []
