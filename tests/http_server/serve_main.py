"""`python -m tests.http_server.serve_main PORT WORKERS [CERT KEY]`: the test application on
termgate's server, as `termgate serve` runs it."""

from __future__ import annotations

import sys

from termgate.http_server import Limits, run


def main(argv: list[str]) -> int:
    port, workers, *tls = argv
    return run(
        "tests.http_server.apps:create_app",
        host="127.0.0.1",
        port=int(port),
        workers=int(workers),
        tls=(tls[0], tls[1]) if tls else None,
        limits=Limits(shutdown_timeout=10.0),
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
