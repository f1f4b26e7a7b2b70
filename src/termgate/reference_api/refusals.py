"""The upstream's own problem kinds (the codes of its contract); clause 3.2: use per the
documentation."""

from __future__ import annotations

from termgate.problems import Refusal

RESOURCE_NOT_FOUND = Refusal(404, 40401, "invalidRequestError", "Resource not found", "3.2")
COMPANY_NOT_FOUND = Refusal(404, 40404, "invalidRequestError", "Company not found", "3.2")
UNKNOWN_ROUTE = Refusal(404, 40401, "invalidRequestError", "No such resource in the API", "3.2")
METHOD_NOT_ALLOWED = Refusal(405, 40501, "invalidRequestError", "Method not allowed here", "3.2")
VALIDATION = Refusal(400, 40001, "validationError", "The request is not valid", "3.2")
BODY_TOO_LARGE = Refusal(413, 41301, "invalidRequestError", "Request body too large", "3.2")
NOT_SIGNED_IN = Refusal(401, 40101, "authenticationError", "No end user on this request", "3.2")
SERVER_ERROR = Refusal(500, 50001, "apiError", "Internal server error", "7")
