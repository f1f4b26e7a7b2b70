"""The request and response values handlers see, free of any server interface."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from termgate.core.wire import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
from termgate.problems import PROBLEM_CONTENT_TYPE, Refusal
from termgate.query import QueryError, parse_query
from termgate.reference_api.refusals import VALIDATION

JSON_CONTENT_TYPE = "application/json"
__all__ = ["DEBTORS_HEADER", "REQUEST_ID_HEADER", "USER_HEADER"]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query_string: bytes
    params: tuple[str, ...]
    request_id: str | None = None
    debtors: frozenset[int] | None = None  # X-Termgate-Debtors; None means no tenant filter
    user_id: str | None = None  # X-Termgate-User
    content_type: str | None = None
    body: bytes = b""
    _query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """The query's parameters, read as the gateway reads them (`termgate.query`)."""
        if self._query is None:
            try:
                self._query = parse_query(self.query_string.decode("utf-8", "replace"))
            except QueryError as error:
                raise ProblemError(
                    VALIDATION,
                    f"{error.name} {error.reason}",
                    invalid_params=[{"name": error.name, "reason": error.reason}],
                ) from None
        return self._query


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class StreamResponse:
    """A body sent in chunks without a Content-Length, so HTTP/1.1 frames it as chunked."""

    status: int
    chunks: Iterator[bytes]
    content_type: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class ProblemError(Exception):
    """Raised by handlers and validators; the app answers with the refusal's problem document."""

    def __init__(
        self,
        refusal: Refusal,
        detail: str,
        *,
        invalid_params: list[dict[str, str]] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.detail = detail
        self.invalid_params = invalid_params
        self.headers = headers or []

    def response(self, instance: str) -> Response:
        body = self.refusal.render(
            self.detail, instance=instance, invalid_params=self.invalid_params
        )
        return Response(self.refusal.status, body, PROBLEM_CONTENT_TYPE, self.headers)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(value))
