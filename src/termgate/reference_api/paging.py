"""The pagination envelope: `pageNumber` from 1, `pageSize` 1..100 (default 20), the counts and
the `firstPage`/`lastPage`/`nextPage`/`previousPage` links (next and previous null at the ends),
absolute on the request's origin: the gateway's public address when it forwards the request."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from termgate.reference_api.http import Request

DEFAULT_PAGE_SIZE = 20


def window(request: Request) -> tuple[int, int]:
    """(pageNumber, pageSize), already checked against the parameters' bounds."""
    number = request.query.get("pageNumber")
    size = request.query.get("pageSize")
    return (
        int(number) if isinstance(number, str) else 1,
        int(size) if isinstance(size, str) else DEFAULT_PAGE_SIZE,
    )


def _link(request: Request, kept: list[tuple[str, str]], number: int, size: int) -> str:
    query = urlencode([*kept, ("pageNumber", str(number)), ("pageSize", str(size))])
    return f"{request.origin}{request.path}?{query}"


def envelope(request: Request, total: int, data: list[Any]) -> dict[str, Any]:
    number, size = window(request)
    pages = -(-total // size)
    raw = request.query_string.decode("utf-8", "replace")
    kept = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True)
            if k not in ("pageNumber", "pageSize")]  # fmt: skip
    return {
        "pagination": {
            "pageNumber": number,
            "pageSize": size,
            "totalPages": pages,
            "totalRecords": total,
            "firstPage": _link(request, kept, 1, size),
            "lastPage": _link(request, kept, max(pages, 1), size),
            "nextPage": _link(request, kept, number + 1, size) if number < pages else None,
            "previousPage": _link(request, kept, min(number - 1, max(pages, 1)), size)
            if number > 1
            else None,
        },
        "data": data,
    }
