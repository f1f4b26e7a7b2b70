"""Serve the payroll API under granian (ASGI, uvloop), one data set per worker process.

Workers import `worker_app` and build the app from the settings (`TERMGATE_SEED`,
`TERMGATE_EMPLOYEES`), which `serve` puts in the environment the workers inherit; the same seed
makes the same data in every worker.
"""

from __future__ import annotations

import os

from granian.constants import HTTPModes, Interfaces, Loops
from granian.server import Server

from termgate.reference_api.app import UpstreamApp, create_app
from termgate.reference_api.data import DEFAULT_EMPLOYEES, DEFAULT_SEED
from termgate.settings import get_settings

WORKER_TARGET = "termgate.reference_api.server:worker_app"


def worker_app() -> UpstreamApp:
    """Factory granian calls in each worker."""
    settings = get_settings()
    return create_app(settings.seed, settings.employees)


def serve(
    host: str = "127.0.0.1",
    port: int = 8001,
    seed: int = DEFAULT_SEED,
    employees: int = DEFAULT_EMPLOYEES,
    workers: int = 1,
) -> None:
    """Run the payroll API until interrupted."""
    os.environ["TERMGATE_SEED"] = str(seed)
    os.environ["TERMGATE_EMPLOYEES"] = str(employees)
    get_settings.cache_clear()
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
