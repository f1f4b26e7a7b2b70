"""Serve the API under granian (ASGI, uvloop), one world per worker process.

Workers import `worker_app` and build the app from `TERMGATE_SEED` and `TERMGATE_EMPLOYEES`,
which `serve` puts in the environment they inherit; the same seed makes the same data in every
worker (writes stay in the worker that took them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from granian.constants import HTTPModes, Interfaces, Loops
from granian.server import Server

from termgate.reference_api.defaults import DEFAULT_EMPLOYEES, DEFAULT_SEED

if TYPE_CHECKING:
    from termgate.reference_api.app import PublishedApp

WORKER_TARGET = "termgate.reference_api.server:worker_app"


def worker_app() -> PublishedApp:
    """Factory granian calls in each worker (the world is built here, not in the main process)."""
    from termgate.reference_api.app import create_app

    seed = int(os.environ.get("TERMGATE_SEED", DEFAULT_SEED))
    return create_app(seed, int(os.environ.get("TERMGATE_EMPLOYEES", DEFAULT_EMPLOYEES)))


def serve(
    host: str = "127.0.0.1",
    port: int = 8001,
    seed: int = DEFAULT_SEED,
    employees: int = DEFAULT_EMPLOYEES,
    workers: int = 1,
) -> None:
    """Run the API until interrupted."""
    os.environ["TERMGATE_SEED"] = str(seed)
    os.environ["TERMGATE_EMPLOYEES"] = str(employees)
    Server(
        WORKER_TARGET,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        factory=True,
        log_access=False,
    ).serve()
