"""The reference API of the published contract (Nmbrs Public REST API, OpenAPI 3.0.1): a demo and
test fixture that serves every operation of `contract/payroll-api-openapi.yaml` over a seeded,
fake Dutch payroll world. Not part of the product: termgate's gateway fronts it like any API.

Public API:
    create_app(seed, employees) -> PublishedApp (ASGI)
    serve(host, port, seed, employees, workers)   `python -m termgate.published_api`
    generate(seed, employees) -> World (World.end_users: the product's logins)
    LoopbackServer(app)        the app on a free loopback port in this process (tests)
    operations()               the document's operations as served
    CONTRACT_PATH              the shipped copy of the document
"""

from termgate.published_api.app import PublishedApp, create_app
from termgate.published_api.contract import CONTRACT_PATH, document
from termgate.published_api.http import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
from termgate.published_api.loopback import LoopbackServer
from termgate.published_api.operations import Operation, operations
from termgate.published_api.server import serve
from termgate.published_api.world import EndUser, World, generate

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
