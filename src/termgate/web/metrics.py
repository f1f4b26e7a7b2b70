"""`GET /metrics`: the gateway's figures in Prometheus' text format, for the operator.

Off unless `TERMGATE_METRICS_TOKEN` is set (then 404, as for any path that does not exist), and
then only for a scrape that sends that token as `Authorization: Bearer`: the figures name
refusal counts and timings that are nobody else's business, and the port is often public.
"""

from __future__ import annotations

import hmac

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from termgate.problems import (
    ADMIN_INVALID_TOKEN,
    ADMIN_MISSING_TOKEN,
    PROBLEM_CONTENT_TYPE,
    Refusal,
)
from termgate.web.context import not_found, web

BEARER = "bearer "


def _refused(refusal: Refusal, detail: str) -> Response:
    return Response(
        refusal.render(detail),
        status_code=refusal.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={"www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store"},
    )


async def metrics(request: Request) -> Response:
    state = web(request)
    token, registry = state.settings.metrics_token, state.metrics
    if token is None or registry is None:
        return not_found(request)
    sent = request.headers.get("authorization", "")
    if not sent.lower().startswith(BEARER):
        return _refused(ADMIN_MISSING_TOKEN, "send the metrics token as Authorization: Bearer")
    if not hmac.compare_digest(
        sent[len(BEARER) :].strip().encode(), token.get_secret_value().encode()
    ):
        return _refused(ADMIN_INVALID_TOKEN, "this is not the metrics token")
    return Response(
        generate_latest(registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"cache-control": "no-store"},
    )
