"""The request and response values the handlers see, free of any server interface."""

from __future__ import annotations

from dataclasses import dataclass, field

from termgate.core.wire import DEBTORS_HEADER, REQUEST_ID_HEADER, USER_HEADER
from termgate.reference_api.errors import JSON

__all__ = ["DEBTORS_HEADER", "REQUEST_ID_HEADER", "USER_HEADER", "Request", "Response"]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query_string: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters by name
    query: dict[str, str | list[str]] = field(default_factory=dict)  # read and checked
    origin: str = "http://localhost"  # scheme://host of absolute links (origin.py)
    request_id: str | None = None
    debtors: frozenset[str] | None = None  # X-Termgate-Debtors; None: no tenant filter
    user_id: str | None = None  # X-Termgate-User
    content_type: str | None = None
    body: bytes = b""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
