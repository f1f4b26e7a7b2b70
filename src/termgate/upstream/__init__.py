"""The reference payroll API that termgate protects in the demo, the tests and the benchmark.

Public API:
    create_app(seed, employees) -> ASGI app     serve(host, port, seed, employees, workers)
    generate(seed, employees) -> PayrollData     (PayrollData.end_users: the product's logins)
    ROUTES / routes()                            the route table (router and OpenAPI both use it)
    build_openapi() -> dict                      the OpenAPI 3.1 document served at /openapi.json
    DEBTORS_HEADER, USER_HEADER, REQUEST_ID_HEADER   headers the gateway sets
"""

from termgate.upstream.app import UpstreamApp, create_app
from termgate.upstream.data import EndUser, PayrollData, generate
from termgate.upstream.http import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
from termgate.upstream.openapi import build_openapi, scope_descriptions
from termgate.upstream.routes import ROUTES, Route, routes
from termgate.upstream.server import serve

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
