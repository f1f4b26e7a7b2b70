"""One circumvention pass (clause 3.3 g) over its week at 100 million events a month: wall time
and the peak memory of the process that runs it, this checkout's code against another's.

    uv run python bench/circumvention_pass.py fill      # a kept database, ~10 min
    uv run python bench/circumvention_pass.py time --rounds 3 --before ../before/src
    uv run python bench/circumvention_pass.py drop

`fill` makes the PostgreSQL database `termgate_bench_circumvention` (kept between runs: a fill
takes longer than the passes) with `usage_fill.fill`: `--rows` events over the last `--days` days
(26,666,667 over 8: a week and a day at the density of 100 million a month), each request for any
of 100,000 end users (`--end-users-per-application N`: one of its application's own N), and the
time it was filled as the passes' `now`. `time` runs `aggregate_circumvention.observations` over
the policy's window, each pass in a fresh process (`ru_maxrss` is the process's peak), the
checkouts in turns; each pass prints its wall time, its peak RSS and what it found (a digest of
the most applications per end user of each account, and the end users served summed over the
applications), which must agree between the checkouts. A checkout before 2026-12 (its
`DeveloperActivity` holds every application's end users) has those counted from its sets here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade
from termgate.monitoring import aggregate_circumvention
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.window import Window
from usage_fill import SUMMARIES, fill

ADMIN = os.environ.get("TERMGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NAME = "termgate_bench_circumvention"
URL = f"{ADMIN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}"
ROOT = Path(__file__).resolve().parents[1]


async def _admin(statement: str) -> None:
    engine = create_engine(ADMIN.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _fill(rows: int, days: int, end_users_per_application: int) -> None:
    now = datetime.now(UTC)
    engine = create_engine(URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        await fill(engine, rows, now, end_users_per_application, days)
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE bench_now (now timestamptz)"))
            await connection.execute(text("INSERT INTO bench_now VALUES (:now)"), {"now": now})
            for table in SUMMARIES:
                await connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        await engine.dispose()


def _found(developers: list[Any]) -> str:
    """The most applications per end user of each account and the end users served, from the
    counts of this code or from the sets of a checkout before them."""
    least = 20  # terms/policy.toml: min_requests
    most: dict[str, int] = {}
    served = 0
    for developer in developers:
        if hasattr(developer, "most_applications_per_end_user"):
            most[developer.developer_id] = developer.most_applications_per_end_user
            served += sum(app.end_users for app in developer.applications)
        else:
            counted = Counter(
                user
                for app in developer.applications
                if app.requests >= least
                for user in app.end_users
            )
            most[developer.developer_id] = max(counted.values(), default=0)
            served += sum(len(app.end_users) for app in developer.applications)
    digest = hashlib.sha1(repr(sorted(most.items())).encode()).hexdigest()[:10]
    return f"{len(developers)} accounts, most per account digest {digest}, {served:,} served"


async def _one_pass() -> None:
    engine = create_engine(URL)
    policy = load_detector_policies(ROOT / "terms")["circumvention"]
    observations: Any = aggregate_circumvention.observations
    try:
        async with session_factory(engine)() as session:
            now = (await session.execute(text("SELECT now FROM bench_now"))).scalar_one()
            window = Window(now - policy.window, now)
            with_policy = len(inspect.signature(observations).parameters) == 3
            began = time.perf_counter()
            found = await (
                observations(session, window, policy)
                if with_policy
                else observations(session, window)
            )
            took = time.perf_counter() - began
    finally:
        await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{took * 1000:9,.0f} ms  peak RSS {peak:7,.0f} MB  {_found(found)}", flush=True)


def _time(rounds: int, before: str) -> None:
    checkouts = {"now": ""} | ({"before": str(Path(before).resolve())} if before else {})
    for number in range(rounds):
        for label, path in checkouts.items():
            env = dict(os.environ, PYTHONPATH=path) if path else dict(os.environ)
            print(f"round {number + 1} {label:7}", end=" ", flush=True)
            subprocess.run(
                [sys.executable, __file__, "one-pass"], env=env, check=True, cwd=ROOT / "bench"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fill", "time", "drop", "one-pass"])
    parser.add_argument("--rows", type=int, default=26_666_667)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--end-users-per-application", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="", help="another checkout's src, timed in turns")
    args = parser.parse_args()
    if args.rows < 1_000 or not 1 <= args.days <= 30 or args.end_users_per_application < 0:
        parser.error("rows ≥ 1000; days 1-30; end users per application ≥ 0")
    if args.action == "fill":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        asyncio.run(_admin(f'CREATE DATABASE "{NAME}"'))
        upgrade(URL)
        asyncio.run(_fill(args.rows, args.days, args.end_users_per_application))
        print(f"filled {NAME}: {args.rows:,} events over {args.days} days", flush=True)
    elif args.action == "time":
        _time(args.rounds, args.before)
    elif args.action == "drop":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    else:
        asyncio.run(_one_pass())


if __name__ == "__main__":
    main()
