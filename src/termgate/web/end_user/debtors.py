"""Names of an end user's customer accounts (debtors), asked of the payroll API itself.

The consent screen must say which accounts are meant in words the end user knows; termgate
keeps no copy of the upstream's data, so it asks, briefly, and falls back to the id. The
published contract names debtors only in its listing, `GET /api/debtors` (`debtorId`, `name`),
answered for the debtors the gateway's header names, so one call (a page per hundred accounts)
names them all. Ids are compared canonically (a decimal number or a lower-case GUID).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from termgate.core.tenant_ids import debtor_id, debtor_order
from termgate.core.wire import DEBTORS_HEADER, USER_HEADER
from termgate.db.oauth import EndUser
from termgate.settings import Settings

TIMEOUT = httpx.Timeout(1.5, connect=0.5)
PAGE_SIZE = 100  # the contract's largest page
MAX_PAGES = 5  # an end user seeing more accounts than this names the rest by id


def fallback_name(debtor_id: str) -> str:
    return f"Customer account {debtor_id}"


async def debtor_names(
    settings: Settings, end_user: EndUser, debtor_ids: Iterable[str]
) -> dict[str, str]:
    """Names by debtor id, in the order of `debtor_order` (numbers, then GUIDs)."""
    ids = sorted(set(debtor_ids), key=debtor_order)
    headers = {
        DEBTORS_HEADER: ",".join(end_user.debtors),
        USER_HEADER: end_user.upstream_id,
    }
    async with httpx.AsyncClient(
        base_url=str(settings.upstream_url), timeout=TIMEOUT, headers=headers
    ) as client:
        listed = await _listed_names(client, set(ids))
    return {debtor: listed.get(debtor) or fallback_name(debtor) for debtor in ids}


async def _listed_names(client: httpx.AsyncClient, wanted: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for page in range(1, MAX_PAGES + 1):
        try:
            response = await client.get(
                "api/debtors", params={"pageNumber": page, "pageSize": PAGE_SIZE}
            )
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            break
        names.update(_names(body["data"], wanted))
        if wanted <= names.keys() or not _has_next(body):
            break
    return names


def _names(records: list[Any], wanted: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        raw, name = record.get("debtorId"), record.get("name")
        canonical = debtor_id(raw) if isinstance(raw, str) else None
        if canonical is not None and canonical in wanted and isinstance(name, str) and name:
            found[canonical] = name
    return found


def _has_next(body: dict[str, Any]) -> bool:
    pagination = body.get("pagination")
    return isinstance(pagination, dict) and bool(pagination.get("nextPage"))
