"""The reference API of the published contract (Nmbrs Public REST API, OpenAPI 3.0.1): a demo and
test fixture that serves every operation of `contract/payroll-api-openapi.yaml` over a seeded,
fake Dutch payroll world. Not part of the product: termgate's gateway fronts it like any API.

Public API (imported on first use, so `python -m termgate.reference_api` keeps granian's main
process small; only its workers build the world):
    create_app(seed, employees) -> PublishedApp (ASGI)
    serve(host, port, seed, employees, workers)   `python -m termgate.reference_api`
    generate(seed, employees) -> World (World.end_users: the product's logins)
    LoopbackServer(app)        the app on a free loopback port in this process (tests)
    operations()               the document's operations as served
    CONTRACT_PATH              the shipped copy of the document
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Bound here, not on first use: the name is also the submodule's, which would shadow it.
from termgate.reference_api.operations import Operation, operations

if TYPE_CHECKING:
    from termgate.reference_api.app import PublishedApp, create_app
    from termgate.reference_api.contract import CONTRACT_PATH, document
    from termgate.reference_api.http import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
    from termgate.reference_api.loopback import LoopbackServer
    from termgate.reference_api.server import serve
    from termgate.reference_api.world import EndUser, World, generate

_EXPORTS = {
    "PublishedApp": "app",
    "create_app": "app",
    "CONTRACT_PATH": "contract",
    "document": "contract",
    "DEBTORS_HEADER": "http",
    "REQUEST_ID_HEADER": "http",
    "USER_HEADER": "http",
    "LoopbackServer": "loopback",
    "serve": "server",
    "EndUser": "world",
    "World": "world",
    "generate": "world",
}
__all__ = [
    "CONTRACT_PATH",
    "DEBTORS_HEADER",
    "REQUEST_ID_HEADER",
    "USER_HEADER",
    "EndUser",
    "LoopbackServer",
    "Operation",
    "PublishedApp",
    "World",
    "create_app",
    "document",
    "generate",
    "operations",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
