"""The wire contract between the gateway, the control plane and the upstream API.

The gateway sets these headers on every request it forwards (the upstream trusts its gateway);
the control plane sets the same ones when it asks the upstream on an end user's behalf. The
reference API reads them, so all three take the names from here.
"""

from __future__ import annotations

DEBTORS_HEADER = "x-termgate-debtors"  # the consented debtor ids, canonical, comma-separated
USER_HEADER = "x-termgate-user"  # id of the end user the request is made for
REQUEST_ID_HEADER = "x-request-id"
# The HTTP methods an OpenAPI path item may describe (its operation keys).
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
