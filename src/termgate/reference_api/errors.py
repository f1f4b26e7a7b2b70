"""The error documents of the contract's `components/responses` (type, httpStatus, code, title,
detail, invalid-params, docUrl), raised by handlers as `ApiError`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

DOC_URL = "https://developer.nmbrs.com/docs/errors"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Error:
    status: int
    code: int
    type: str  # one of the contract's enum: apiError, authenticationError, invalidRequestError,
    # throttlingError, validationError
    title: str


NOT_FOUND = Error(404, 40401, "invalidRequestError", "Not_Found")
INVALID_COMPANY = Error(404, 40404, "invalidRequestError", "Invalid_Company")
INVALID_PARAMETER = Error(400, 40033, "validationError", "Parameter_Invalid")
INVALID_BODY = Error(400, 40001, "validationError", "Body_Invalid")
METHOD_NOT_ALLOWED = Error(405, 40501, "invalidRequestError", "Method_Not_Allowed")
BODY_TOO_LARGE = Error(413, 41301, "invalidRequestError", "Body_Too_Large")
UNSUPPORTED_MEDIA = Error(415, 41501, "invalidRequestError", "Unsupported_Media_Type")
SERVER_ERROR = Error(500, 50001, "apiError", "Unknown")


class ApiError(Exception):
    def __init__(
        self,
        error: Error,
        detail: str,
        invalid_params: list[dict[str, str]] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.invalid_params = invalid_params
        self.headers = headers or []

    def document(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.error.type,
            "httpStatus": self.error.status,
            "code": self.error.code,
            "title": self.error.title,
            "detail": self.detail,
        }
        if self.invalid_params:
            body["invalid-params"] = self.invalid_params
        body["docUrl"] = DOC_URL
        return body

    def body(self) -> bytes:
        return orjson.dumps(self.document())


def bad_parameter(name: str, reason: str) -> ApiError:
    return ApiError(INVALID_PARAMETER, "Invalid parameter.", [{"name": name, "reason": reason}])


def not_found(what: str, value: str) -> ApiError:
    return ApiError(NOT_FOUND, f"No {what} with id {value}.")
