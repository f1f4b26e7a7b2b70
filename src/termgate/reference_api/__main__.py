"""`python -m termgate.reference_api --port 8001 --employees 2000 --seed N`."""

from __future__ import annotations

import argparse

from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED
from termgate.reference_api.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m termgate.reference_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--employees", type=int, default=DEFAULT_EMPLOYEES)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.seed, args.employees, args.workers)


if __name__ == "__main__":
    main()
