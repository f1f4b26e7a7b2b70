"""The reference payroll API that termgate protects in the demo, the tests and the benchmark.

Public API:
    create_app(seed, employees) -> ASGI app     serve(host, port, seed, employees, workers)
    generate(seed, employees) -> PayrollData     (PayrollData.end_users: the product's logins)
    ROUTES / routes()                            the route table (router and OpenAPI both use it)
    build_openapi() -> dict                      the OpenAPI 3.1 document served at /openapi.json
    DEBTORS_HEADER, USER_HEADER, REQUEST_ID_HEADER   headers the gateway sets
"""

from termgate.reference_api.app import UpstreamApp, create_app
from termgate.reference_api.data import EndUser, PayrollData, generate
from termgate.reference_api.http import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
from termgate.reference_api.openapi import build_openapi, scope_descriptions
from termgate.reference_api.routes import ROUTES, Route, routes
from termgate.reference_api.server import serve

__all__ = [
    "DEBTORS_HEADER",
    "REQUEST_ID_HEADER",
    "ROUTES",
    "USER_HEADER",
    "EndUser",
    "PayrollData",
    "Route",
    "UpstreamApp",
    "build_openapi",
    "create_app",
    "generate",
    "routes",
    "scope_descriptions",
    "serve",
]
