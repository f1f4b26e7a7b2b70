"""Pagination of every list: `pageNumber` from 1, `pageSize` 1..100 (default 20)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from termgate.query import whole_number
from termgate.reference_api.http import ProblemError, Request, Response, json_response
from termgate.reference_api.refusals import VALIDATION

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _number(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    value = whole_number(raw)
    if value is None or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ProblemError(
            VALIDATION,
            f"{name} must be a whole number {bound}",
            invalid_params=[{"name": name, "reason": f"must be a whole number {bound}"}],
        )
    return value


def page_window(request: Request) -> tuple[int, int]:
    """(pageNumber, pageSize) of the request, or a validation problem."""
    if not request.query_string:
        return 1, DEFAULT_PAGE_SIZE
    query = request.query
    size = _number(query, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return _number(query, "pageNumber", 1, 1, None), size


def paginate(
    request: Request,
    items: Sequence[Any],
    shape: Callable[[Any], Any] | None = None,
) -> Response:
    """One page of `items` in the list envelope; `shape` maps each item of the page if given."""
    number, size = page_window(request)
    total = len(items)
    start = (number - 1) * size
    page = items[start : start + size]
    return json_response(
        {
            "data": [shape(item) for item in page] if shape else page,
            "pagination": {
                "pageNumber": number,
                "pageSize": size,
                "totalPages": -(-total // size),
                "totalRecords": total,
            },
        }
    )
