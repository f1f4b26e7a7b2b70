"""Tenant id forms (`termgate.core.tenant_ids`): the consent ledger and token claims use them
too, so they live on the floor below identity; the tenancy file names them here."""

from __future__ import annotations

from termgate.core.tenant_ids import (
    ID_FORMS,
    MAX_INTEGER_DIGITS,
    Canonical,
    integer_id,
    opaque_id,
    uuid_id,
)

__all__ = ["ID_FORMS", "MAX_INTEGER_DIGITS", "Canonical", "integer_id", "opaque_id", "uuid_id"]
